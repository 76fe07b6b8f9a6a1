/** Plain-text tables for the terminal. */
export function table(headers, rows) {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => row[column].length)));
  const line = (row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  return [line(cells[0]), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function targetsTable(targets, issue = 5) {
  return table(
    [`target (issue ${issue})`, 'measured', 'verdict'],
    targets.map((entry) => [entry.target, entry.measured, entry.met === null ? 'n/a' : entry.met ? 'met' : 'MISSED']),
  );
}
