import type { IncomingMessage, ServerResponse } from 'node:http';
export declare const DEFAULT_MOUNTS: Record<string, string>;
export interface Served {
  url: string;
  port: number;
  log: string[];
  close(): Promise<void>;
}
export declare function serve(opts?: {
  port?: number;
  host?: string;
  mounts?: Record<string, string>;
  coi?: boolean;
  /** Tried first; return true when it answered the request. */
  handler?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean | Promise<boolean>;
}): Promise<Served>;
