// Resources travel by reference ("<type>:<id>") and are re-read from the database by the task.

export interface ResourceRef {
  type: string;
  id: string;
}

const TYPE_PATTERN = /^[a-z][a-z0-9_]*$/;
// Ids become subject tokens (events.<type>.<id>.<event>): no dots, wildcards or white space.
const ID_PATTERN = /^[^.*>\s]+$/;

export function formatResourceRef(ref: ResourceRef): string {
  return `${ref.type}:${ref.id}`;
}

export function parseResourceRef(value: string): ResourceRef {
  const at = value.indexOf(':');
  const type = value.slice(0, at);
  const id = value.slice(at + 1);
  if (at <= 0 || !TYPE_PATTERN.test(type) || !ID_PATTERN.test(id)) {
    throw new TypeError(`Not a resource reference: "${value}" (expected "<type>:<id>")`);
  }
  return { type, id };
}
