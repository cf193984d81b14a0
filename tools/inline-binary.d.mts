/** The base64 a module of `id` exports: the file's bytes. */
export function inlinedBase64(id: string): string;
export function inlineBinary(opts?: { deferred?: boolean }): unknown;
