/** Quotes an SQL identifier (schema, channel) for interpolation into a statement. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Fully qualified table names of one schema. */
export interface Tables {
  schema: string;
  events: string;
  deliveries: string;
  attempts: string;
  runs: string;
  quarantine: string;
  readiness: string;
  /** LISTEN/NOTIFY channel on which committed due deliveries are announced. */
  channel: string;
}

export function tablesOf(schema: string): Tables {
  const q = quoteIdentifier(schema);
  return {
    schema,
    events: `${q}.events`,
    deliveries: `${q}.deliveries`,
    attempts: `${q}.attempts`,
    runs: `${q}.runs`,
    quarantine: `${q}.quarantine`,
    readiness: `${q}.readiness_probe`,
    channel: `hookrelay_due:${schema}`.slice(0, 63),
  };
}
