import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticFile {
  readonly contentType: string;
  readonly body: Buffer;
}

const PUBLIC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../public');
const FILES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'login.css': 'text/css; charset=utf-8',
};

/** The page's script and stylesheets, read once at start-up and served from memory as /static/<name>. */
export async function loadStaticFiles(): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  for (const [name, contentType] of Object.entries(FILES))
    files.set(`/static/${name}`, { contentType, body: await readFile(resolve(PUBLIC_DIR, name)) });
  return files;
}
