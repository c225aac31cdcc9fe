/** argv for tests and tools that hold the arguments apart: both forms the records and entries carry. */
import { commandLine, type ArgvStrings } from '../../src/collector/byte-text';

export function argvOf(args: readonly string[]): ArgvStrings {
  let argvText = '';
  for (const a of args) argvText += a + '\0';
  return { argvText, cmdline: commandLine(argvText) };
}
