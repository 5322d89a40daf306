import type { SqlMigration } from '../migrate.ts';

/**
 * `jetcel_outbox_mark_published(p_ids uuid[])`: the relay's published mark as a function whose
 * update is planned once per connection, with sequential and bitmap scans off so its cached plan
 * looks the rows up by key at any table size. As a statement it had to be planned at every call: a
 * generic plan made while the outbox was small kept scanning the whole table.
 */
export const markPublishedFunction: SqlMigration = {
  name: 'm022_mark_published_function',
  up: [
    `create function jetcel_outbox_mark_published(p_ids uuid[]) returns void
  language plpgsql set enable_seqscan = off set enable_bitmapscan = off
as $$
begin
  update jetcel_outbox set published_at = now(), lease_until = null where id = any(p_ids);
end
$$`,
  ],
  down: ['drop function if exists jetcel_outbox_mark_published(uuid[])'],
};
