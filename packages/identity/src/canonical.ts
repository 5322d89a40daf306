const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * True when `segment` is the one base64url spelling of its bytes: no padding, no other alphabet,
 * no length that cannot occur and no set trailing bits. Decoders (atob, Buffer) ignore trailing
 * bits, so without this check one signature has several accepted spellings.
 */
export function isCanonicalBase64url(segment: string): boolean {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) return false;
  return Buffer.from(segment, 'base64url').toString('base64url') === segment;
}
