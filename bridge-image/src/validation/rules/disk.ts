/** Raw disk writes and formatting: `dd of=/dev/sda`, `> /dev/nvme0n1`, `mkfs.ext4`, `wipefs -a`. */
import { commandName } from '../command-model.js';
import { isBlockDevice } from '../sensitive-paths.js';
import { defineRule } from './rule.js';

export const diskOverwrite = defineRule('disk-overwrite', 0.98, (s) => {
  const op = s.ops.find((o) => o.access !== 'read' && o.path !== null && isBlockDevice(o.path));
  return op ? `overwrites the raw disk device ${op.path} (via ${op.via}), destroying its filesystem` : null;
});

const FORMATTERS = /^(?:mkfs(?:\..+)?|mke2fs|mkswap|mkdosfs|mkntfs|mkexfatfs|newfs(?:_.+)?|mkfs_.+)$/;
const PARTED_WRITES = new Set(['mklabel', 'mktable', 'mkpart', 'rm', 'resizepart', 'mkfs']);
const DISKUTIL_WRITES = /^(?:erase|zero|random|secureErase|partitionDisk|reformat)/i;

export const diskFormat = defineRule('disk-format', 0.97, (s) => {
  if (s.kind !== 'command') return null;
  const args = s.command.args;
  const name = commandName(args);
  const rest = args.slice(1).map((a) => a.text);
  const why = (what: string) => `${what} (\`${s.command.text}\`), destroying what is on the disk`;
  if (FORMATTERS.test(name)) return why('formats a disk or partition');
  if (name === 'wipefs' && rest.some((t) => /^-[^-]*[ao]|^--all$|^--offset/.test(t)))
    return why('wipes filesystem signatures');
  if (name === 'parted' && rest.some((t) => PARTED_WRITES.has(t))) return why('changes a partition table');
  if (
    (name === 'sgdisk' || name === 'gdisk') &&
    rest.some((t) => /^-[Zzodn]|^--(?:zap|clear|delete|new)/.test(t))
  ) {
    return why('changes a partition table');
  }
  if (
    (name === 'fdisk' || name === 'sfdisk' || name === 'cfdisk') &&
    !rest.some((t) => /^-(?:l|d)$|^--(?:list|dump)/.test(t))
  ) {
    return rest.some((t) => t.startsWith('/dev/')) ? why('repartitions a disk') : null;
  }
  if (name === 'diskutil' && rest.some((t) => DISKUTIL_WRITES.test(t)))
    return why('erases or repartitions a disk');
  return null;
});
