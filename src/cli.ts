#!/usr/bin/env node
// Commands and exit codes only: each command's work lives in its own module.
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { exitCodeOf, formatError } from './errors.js';

const require = createRequire(import.meta.url);
// dist/src/cli.js and src/cli.ts both sit two levels below package.json's folder or one.
const pkg = loadPackageJson();

function loadPackageJson(): { version: string } {
  for (const candidate of ['../../package.json', '../package.json']) {
    try {
      return require(candidate) as { version: string };
    } catch {
      // try the next layout
    }
  }
  return { version: '0.0.0' };
}

const program = new Command()
  .name('kubeforge')
  .description('Bring up a Kubernetes cluster on containerd over SSH, from one inventory file.')
  .version(pkg.version, '-V, --version')
  .showHelpAfterError();

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(formatError(err) + '\n');
  process.exitCode = exitCodeOf(err);
});
