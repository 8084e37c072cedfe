// `npx cinderblock` runs node_modules/.bin/cinderblock when it exists. npm links
// only dependencies' bins there, and declaring our own "bin" makes npm 11 try to
// install the project into its npx cache (which fails, and an unrelated registry
// package shares the name), so the link is made here instead.
import { chmodSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'dist/src/cli/main.js');
const link = join(root, 'node_modules/.bin/cinderblock');
mkdirSync(dirname(link), { recursive: true });
rmSync(link, { force: true });
symlinkSync(relative(dirname(link), target), link);
chmodSync(target, 0o755);
