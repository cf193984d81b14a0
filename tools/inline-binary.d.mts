/** The base64 a module of `id` exports: the file's bytes, zlib-compressed first when the id ends in `?deflate`. */
export function inlinedBase64(id: string): string;
export function inlineBinary(opts?: { deferred?: boolean }): unknown;
