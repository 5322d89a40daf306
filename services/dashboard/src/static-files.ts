import { readdir, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticFile {
  readonly contentType: string;
  readonly body: Buffer;
}

const PUBLIC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../public');
const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** The page's modules and stylesheets (public/*.js, *.css), read once at start-up and served from memory as /static/<name>. */
export async function loadStaticFiles(): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  for (const name of await readdir(PUBLIC_DIR)) {
    const contentType = TYPES[name.split('.').pop() ?? ''];
    if (contentType) files.set(`/static/${name}`, { contentType, body: await readFile(resolve(PUBLIC_DIR, name)) });
  }
  return files;
}
