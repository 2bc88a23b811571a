import { Alert, Badge, Group, Loader, Stack, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';

import { ErrorNotice } from '../../components/ErrorNotice';
import { formatBytes, shortHash } from '../../components/format';
import { commands } from '../../ipc/bindings';
import type { AppError, BundleRef, BundleSide as BundleSide, CodeDiff as CodeDiff } from '../../ipc/types';
import { deployKeys } from '../../ipc/deploy';
import { callCommand } from '../../ipc/errors';

function SideFacts({ title, side }: { title: string; side: BundleSide }) {
  return (
    <Text size="sm">
      <Text span fw={600}>
        {`${title}: `}
      </Text>
      {side.available
        ? `${formatBytes(side.sizeBytes ?? 0)}, ${side.lines ?? 0} lines, SHA-256 `
        : `${side.reason ?? 'not readable'} `}
      {side.available && side.sha256 && <span className="sy-hash">{shortHash(side.sha256)}</span>}
      <Text span c="dimmed" size="xs">{` (${side.source})`}</Text>
    </Text>
  );
}

function summary(d: CodeDiff): string {
  if (d.identical) {
    return 'The code is identical, byte for byte.';
  }
  if (d.binary) {
    return 'One side is not text: only sizes and hashes can be compared.';
  }
  if (!d.left.available && !d.left.absent) {
    return 'The code running now could not be read, so the lines cannot be compared.';
  }
  if (!d.right.available) {
    return 'The new code could not be read.';
  }
  const lines = (n: number) => `${n} line${n === 1 ? '' : 's'}`;
  if (d.left.absent) {
    return `All new: ${lines(d.added)}.`;
  }
  if (d.added + d.removed === 0) {
    return 'The bytes differ but no line does (line endings or a trailing newline).';
  }
  return `${lines(d.added)} added, ${lines(d.removed)} removed.`;
}

const SIGN = { added: '+', removed: '−', context: ' ' } as const;

/** The unified diff, one row per line, with both line numbers, in a region named `label`. */
export function DiffLines({ diff, label = 'Code changes, line by line' }: { diff: CodeDiff; label?: string }) {
  return (
    // A focusable region so the keyboard can scroll it.
    // eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex
    <div className="sy-diff" role="region" aria-label={label} tabIndex={0}>
      {diff.hunks.map((h, hi) => (
        <div key={hi}>
          <div className="sy-diff-hunk">{h.header}</div>
          {h.lines.map((l, li) => (
            <div key={li} className={`sy-diff-line sy-diff-${l.kind}`}>
              <span className="sy-diff-no" aria-hidden>
                {l.old ?? ''}
              </span>
              <span className="sy-diff-no" aria-hidden>
                {l.new ?? ''}
              </span>
              <span className="sy-diff-sign">{SIGN[l.kind]}</span>
              <span className="sy-diff-text">
                {l.text}
                {l.cutChars > 0 && (
                  <Text span c="dimmed" size="xs">{` … ${l.cutChars.toLocaleString()} more characters`}</Text>
                )}
              </span>
            </div>
          ))}
        </div>
      ))}
    </div>
  );
}

/**
 * Diff first: the code of `left` (what runs now, or an older version) against `right`, with sizes
 * and SHA-256 of both, bounded for large bundles (the backend says when it cut).
 */
export function CodeDiffView({
  profileId,
  left,
  right,
  leftTitle,
  rightTitle,
}: {
  profileId: string;
  left: BundleRef;
  right: BundleRef;
  leftTitle: string;
  rightTitle: string;
}) {
  const diff = useQuery<CodeDiff, AppError>({
    queryKey: [...deployKeys.all(profileId), 'compare', left, right],
    queryFn: () => callCommand(() => commands.compareBundles({ profileId, left, right })),
    staleTime: 0,
    gcTime: 0,
  });
  if (diff.isPending) {
    return (
      <Group gap="xs">
        <Loader size="xs" aria-hidden />
        <Text size="sm">Comparing the code…</Text>
      </Group>
    );
  }
  if (diff.isError) {
    return <ErrorNotice error={diff.error} context="Comparing the code" />;
  }
  const d = diff.data;
  return (
    <Stack gap={6} aria-label="Code changes" role="group">
      <Group gap="xs">
        <Text fw={600} size="sm">
          Code
        </Text>
        {d.identical ? (
          <Badge color="gray" tt="none">
            identical
          </Badge>
        ) : (
          <>
            {d.added > 0 && (
              <Badge color="green" tt="none">{`+${d.added}`}</Badge>
            )}
            {d.removed > 0 && (
              <Badge color="red" tt="none">{`−${d.removed}`}</Badge>
            )}
          </>
        )}
        <Text size="sm">{summary(d)}</Text>
      </Group>
      <SideFacts title={leftTitle} side={d.left} />
      <SideFacts title={rightTitle} side={d.right} />
      {d.truncated && (
        <Alert color="yellow" variant="light" p="xs">
          <Text size="sm">{d.truncated}</Text>
        </Alert>
      )}
      {d.hunks.length > 0 && <DiffLines diff={d} />}
    </Stack>
  );
}
