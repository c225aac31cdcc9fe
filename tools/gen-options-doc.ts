/**
 * Writes docs/options.md from the option schema, or prints the README's
 * configuration and command-line sections.
 *
 *   node dist/tools/gen-options-doc.js            write docs/options.md
 *   node dist/tools/gen-options-doc.js --check    exit 1 when docs/options.md is stale
 *   node dist/tools/gen-options-doc.js --readme   print the README section
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderOptionsMarkdown, renderReadmeSection } from '../src/daemon/options-doc';
import { packageInfo } from '../src/daemon/package-info';

export const OPTIONS_DOC_PATH = join(packageInfo().root, 'docs', 'options.md');

function main(args: string[]): number {
  if (args.includes('--readme')) {
    process.stdout.write(renderReadmeSection());
    return 0;
  }
  const want = renderOptionsMarkdown();
  if (args.includes('--check')) {
    let have = '';
    try {
      have = readFileSync(OPTIONS_DOC_PATH, 'utf8');
    } catch {
      // missing counts as stale
    }
    if (have !== want) {
      process.stderr.write(`${OPTIONS_DOC_PATH} is out of date with src/daemon/option-schema.ts: run node dist/tools/gen-options-doc.js\n`);
      return 1;
    }
    return 0;
  }
  writeFileSync(OPTIONS_DOC_PATH, want);
  process.stdout.write(`wrote ${OPTIONS_DOC_PATH}\n`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
