// The one CSV writer of the API: RFC 4180, CRLF line ends, and text cells a spreadsheet would run
// as a formula (a leading = + - @, tab or CR) prefixed with a quote (OWASP "CSV injection"). A
// plain number such as a phone number ("+14255550123") or "-5" is no formula and stays as it is.

export type CsvValue = string | number | boolean | null | undefined;

function cell(value: CsvValue): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text) && !/^[+-]?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows as CSV, each ended by CRLF; the header row first when given. */
export function toCsv(rows: ReadonlyArray<readonly CsvValue[]>, header?: readonly string[]): string {
  const lines = header ? [header, ...rows] : rows;
  return lines.map((row) => `${row.map(cell).join(',')}\r\n`).join('');
}
