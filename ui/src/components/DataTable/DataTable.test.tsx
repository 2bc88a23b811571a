import { MantineProvider, TextInput } from '@mantine/core';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';

import { type DataColumn, DataTable, TextCell, useTableFilter } from '.';

interface Service {
  name: string;
  owner: string;
  requests: number;
}

const SERVICES: Service[] = [
  { name: 'gateway', owner: 'edge', requests: 300 },
  { name: 'auth', owner: 'identity', requests: 1200 },
  { name: 'db', owner: 'data', requests: 45 },
];

const COLUMNS: DataColumn<Service>[] = [
  { id: 'name', header: 'Name', accessorFn: (s) => s.name, cell: ({ row }) => <TextCell value={row.original.name} /> },
  { id: 'owner', header: 'Owner', cell: ({ row }) => <TextCell value={row.original.owner} /> },
  {
    id: 'requests',
    header: 'Requests',
    accessorFn: (s) => s.requests,
    sortDescFirst: true,
    cell: ({ row }) => String(row.original.requests),
  },
];

const serviceText = (s: Service) => `${s.name}\t${s.owner}\t${s.requests}`;

function Services({ rows = SERVICES, onOpen = () => undefined }: { rows?: readonly Service[]; onOpen?: (s: Service) => void }) {
  return (
    <MantineProvider env="test">
      <DataTable
        label="Services"
        rows={rows}
        columns={COLUMNS}
        rowId={(s) => s.name}
        rowHeight={37}
        onActivate={onOpen}
        copyText={serviceText}
      />
    </MantineProvider>
  );
}

function dataRows() {
  return within(screen.getByRole('table', { name: 'Services' }))
    .getAllByRole('row')
    .filter((row) => row.hasAttribute('data-index'));
}

function names() {
  return dataRows().map((row) => row.querySelector('td')?.textContent);
}

describe('DataTable', () => {
  it('sorts by a sortable column header and says so with aria-sort; other headers are plain', async () => {
    const user = userEvent.setup();
    render(<Services />);
    expect(names()).toEqual(['gateway', 'auth', 'db']);
    expect(screen.getByRole('columnheader', { name: 'Owner' })).not.toHaveAttribute('aria-sort');
    expect(screen.queryByRole('button', { name: 'Owner' })).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Name' }));
    expect(names()).toEqual(['auth', 'db', 'gateway']);
    expect(screen.getByRole('columnheader', { name: 'Name' })).toHaveAttribute('aria-sort', 'ascending');
    expect(screen.getByRole('columnheader', { name: 'Requests' })).toHaveAttribute('aria-sort', 'none');

    await user.click(screen.getByRole('button', { name: 'Name' }));
    expect(names()).toEqual(['gateway', 'db', 'auth']);
    expect(screen.getByRole('columnheader', { name: 'Name' })).toHaveAttribute('aria-sort', 'descending');

    // A column that starts with the largest first.
    await user.click(screen.getByRole('button', { name: 'Requests' }));
    expect(names()).toEqual(['auth', 'gateway', 'db']);
    expect(screen.getByRole('columnheader', { name: 'Requests' })).toHaveAttribute('aria-sort', 'descending');
    expect(screen.getByRole('columnheader', { name: 'Name' })).toHaveAttribute('aria-sort', 'none');
  });

  it('moves through rows with the arrow keys, Home and End, and opens one with Enter', async () => {
    const user = userEvent.setup();
    const onOpen = vi.fn();
    render(<Services onOpen={onOpen} />);
    // One tab stop for the rows.
    expect(dataRows().map((row) => row.tabIndex)).toEqual([0, -1, -1]);
    // Past the two sortable headers' buttons, Tab reaches the rows.
    await user.tab();
    await user.tab();
    await user.tab();
    expect(dataRows()[0]).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(dataRows()[1]).toHaveFocus();
    await user.keyboard('{End}');
    expect(dataRows()[2]).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(dataRows()[2]).toHaveFocus();
    await user.keyboard('{Home}{ArrowDown}');
    expect(dataRows()[1]).toHaveFocus();
    expect(dataRows().map((row) => row.tabIndex)).toEqual([-1, 0, -1]);
    await user.keyboard('{Enter}');
    expect(onOpen).toHaveBeenCalledTimes(1);
    expect(onOpen.mock.calls[0]?.[0]).toEqual(SERVICES[1]);
    await user.click(screen.getByText('db'));
    expect(onOpen.mock.calls[1]?.[0]).toEqual(SERVICES[2]);
  });

  it('copies the focused row with Ctrl+C, or the text selected in it (one cell)', async () => {
    const user = userEvent.setup();
    render(<Services />);
    await user.click(screen.getByText('gateway'));
    await user.keyboard('{ArrowDown}{Control>}c{/Control}');
    await expect(navigator.clipboard.readText()).resolves.toBe('auth\tidentity\t1200');

    const cell = within(dataRows()[1] ?? document.body).getByText('identity');
    const range = document.createRange();
    range.selectNodeContents(cell);
    window.getSelection()?.removeAllRanges();
    window.getSelection()?.addRange(range);
    await user.keyboard('{Control>}c{/Control}');
    await expect(navigator.clipboard.readText()).resolves.toBe('identity');
    window.getSelection()?.removeAllRanges();
  });

  it('renders only the rows in view of a long list, and says how many there are', () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ name: `svc-${i}`, owner: 'ops', requests: i }));
    render(<Services rows={many} />);
    const table = screen.getByRole('table', { name: 'Services' });
    expect(table).toHaveAttribute('aria-rowcount', '5001');
    const shown = dataRows();
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length).toBeLessThan(60);
    expect(shown[0]).toHaveAttribute('aria-rowindex', '2');
  });

  it('shows new cells when its columns change for the same rows (state a cell shows)', () => {
    const withMark = (mark: string): DataColumn<Service>[] => [
      { id: 'name', header: 'Name', cell: ({ row }) => `${mark} ${row.original.name}` },
    ];
    const table = (mark: string) => (
      <MantineProvider env="test">
        <DataTable label="Services" rows={SERVICES} columns={withMark(mark)} rowId={(s) => s.name} rowHeight={37} />
      </MantineProvider>
    );
    const { rerender } = render(table('○'));
    expect(names()).toEqual(['○ gateway', '○ auth', '○ db']);
    rerender(table('●'));
    expect(names()).toEqual(['● gateway', '● auth', '● db']);
  });

  it('renders every row of a short table, in a box as tall as its rows, with the same keys and copy', async () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ name: `svc-${i}`, owner: 'ops', requests: i }));
    const user = userEvent.setup();
    render(
      <MantineProvider env="test">
        <DataTable label="Services" rows={many} columns={COLUMNS} rowId={(s) => s.name} copyText={serviceText} virtual={false} />
      </MantineProvider>,
    );
    const shown = dataRows();
    expect(shown).toHaveLength(200);
    expect(shown[199]).toHaveAttribute('aria-rowindex', '201');
    // No fixed row height: a row is as tall as what it holds.
    expect(shown[0]?.style.height).toBe('');
    const box = screen.getByRole('table', { name: 'Services' }).parentElement;
    expect(box).toHaveClass('sy-table-auto');
    expect(box).not.toHaveClass('sy-virtual-scroll');

    await user.click(screen.getByText('svc-0'));
    await user.keyboard('{End}');
    expect(dataRows()[199]).toHaveFocus();
    await user.keyboard('{ArrowUp}{Control>}c{/Control}');
    await expect(navigator.clipboard.readText()).resolves.toBe('svc-198\tops\t198');
    // Sorting is the table's too.
    await user.click(screen.getByRole('button', { name: 'Requests' }));
    expect(names()[0]).toBe('svc-199');
  });

  it('leaves the keys typed in a control of a row to that control', async () => {
    const user = userEvent.setup();
    const onOpen = vi.fn();
    const withField: DataColumn<Service>[] = [
      ...COLUMNS,
      { id: 'note', header: 'Note', cell: ({ row }) => <input aria-label={`Note on ${row.original.name}`} /> },
    ];
    render(
      <MantineProvider env="test">
        <DataTable
          label="Services"
          rows={SERVICES}
          columns={withField}
          rowId={(s) => s.name}
          onActivate={onOpen}
          copyText={serviceText}
          virtual={false}
        />
      </MantineProvider>,
    );
    const field = screen.getByRole('textbox', { name: 'Note on auth' });
    await user.click(field);
    onOpen.mockClear();
    await user.keyboard('a b{ArrowDown}{Home}c');
    // The space and the arrows stayed in the field: it holds what was typed, and no row opened or took focus.
    expect(field).toHaveValue('ca b');
    expect(field).toHaveFocus();
    expect(onOpen).not.toHaveBeenCalled();
  });

  it('filters rows by what is typed, in any of their fields, case-insensitively', async () => {
    function Filtered() {
      const [search, setSearch] = useState('');
      const rows = useTableFilter(SERVICES, search, fields);
      return (
        <MantineProvider env="test">
          <TextInput
            label="Search"
            value={search}
            onChange={(e) => {
              setSearch(e.currentTarget.value);
            }}
          />
          <DataTable label="Services" rows={rows} columns={COLUMNS} rowId={(s) => s.name} rowHeight={37} />
        </MantineProvider>
      );
    }
    const user = userEvent.setup();
    render(<Filtered />);
    await user.type(screen.getByRole('textbox', { name: 'Search' }), 'IDENT');
    expect(names()).toEqual(['auth']);
    await user.clear(screen.getByRole('textbox', { name: 'Search' }));
    await user.type(screen.getByRole('textbox', { name: 'Search' }), 'a');
    expect(names()).toEqual(['gateway', 'auth', 'db']);
    await user.type(screen.getByRole('textbox', { name: 'Search' }), 't');
    // "at": in gateway's name and in db's owner (data).
    expect(names()).toEqual(['gateway', 'db']);
  });
});

/** 5,000 services kept elsewhere, fetched a window at a time (a tick later) as the table asks. */
function WindowedServices({ onRange, onOpen = () => undefined }: { onRange: (start: number, end: number) => void; onOpen?: (s: Service) => void }) {
  const all = Array.from({ length: 5000 }, (_, i) => ({ name: `svc-${i}`, owner: 'ops', requests: i }));
  const [fetched, setFetched] = useState<{ offset: number; rows: Service[] }>({ offset: 0, rows: [] });
  const rowWindow = {
    count: all.length,
    offset: fetched.offset,
    placeholderText: 'Loading services…',
    onRangeChange: (start: number, end: number) => {
      onRange(start, end);
      setTimeout(() => {
        const from = Math.max(0, start - 10);
        setFetched((f) =>
          f.offset === from && f.rows.length === end + 10 - from ? f : { offset: from, rows: all.slice(from, end + 10) },
        );
      }, 0);
    },
  };
  return (
    <MantineProvider env="test">
      <DataTable
        label="Services"
        rows={fetched.rows}
        rowWindow={rowWindow}
        columns={COLUMNS}
        rowId={(s) => s.name}
        rowHeight={37}
        onActivate={onOpen}
        copyText={serviceText}
        sorting={[{ id: 'name', desc: false }]}
        onSortingChange={() => undefined}
      />
    </MantineProvider>
  );
}

describe('DataTable by window', () => {
  it('is as long as the rows there are, shows placeholders until a window arrives, and says which rows are in view', async () => {
    const user = userEvent.setup();
    const ranges: [number, number][] = [];
    const onOpen = vi.fn();
    render(
      <WindowedServices
        onRange={(start, end) => {
          ranges.push([start, end]);
        }}
        onOpen={onOpen}
      />,
    );
    const table = screen.getByRole('table', { name: 'Services' });
    expect(table).toHaveAttribute('aria-rowcount', '5001');
    // Before the window arrives: placeholder rows, busy, in place of the rows in view.
    const placeholders = within(table).getAllByText('Loading services…');
    expect(placeholders.length).toBeGreaterThan(0);
    expect(placeholders.length).toBeLessThan(60);
    expect(placeholders[0]?.closest('tr')).toHaveAttribute('aria-busy', 'true');
    // The rows in view asked for: those placeholders (after the box's size was read).
    expect(ranges.at(-1)?.[0]).toBe(0);
    expect(ranges.at(-1)?.[1]).toBe(placeholders.length);

    // The window arrives: its rows, in order, where the placeholders were.
    expect(await screen.findByText('svc-0')).toBeInTheDocument();
    expect(within(table).queryByText('Loading services…')).not.toBeInTheDocument();
    expect(names().slice(0, 3)).toEqual(['svc-0', 'svc-1', 'svc-2']);
    expect(dataRows()[1]).toHaveAttribute('aria-rowindex', '3');

    // Keys and a click reach the rows fetched.
    await user.click(screen.getByText('svc-0'));
    await user.keyboard('{ArrowDown}{Enter}');
    expect(onOpen.mock.calls.map((c) => (c[0] as Service).name)).toEqual(['svc-0', 'svc-1']);
    await user.keyboard('{Control>}c{/Control}');
    await expect(navigator.clipboard.readText()).resolves.toBe('svc-1\tops\t1');
  });
});

const fields = (s: Service) => [s.name, s.owner];
