// The record editor of the Publish view: one form row per record, read into the record objects of dns.js.
// A row loaded from the published packet and left untouched is handed back as it was decoded, so that publishing an
// edit elsewhere cannot change it (TXT string boundaries, SVCB params the form does not show, unknown types).

import { presentation, relativeName, validateRecord } from '../dns.js';
import { fill, h, uid } from './dom.js';

// Field kinds: text, number (whole, checked here), list (comma-separated), textarea, checkbox.
const SVCB_FIELDS = [
  { key: 'priority', label: 'Priority (0 = alias mode)', kind: 'number', value: '1' },
  { key: 'target', label: 'Target (. = this name)', value: '.' },
  { key: 'alpn', label: 'ALPN protocols', kind: 'list', placeholder: 'h2, h3' },
  { key: 'port', label: 'Port', kind: 'number', optional: true, placeholder: '443' },
  { key: 'ipv4hint', label: 'IPv4 hints', kind: 'list', placeholder: '192.0.2.1' },
  { key: 'ipv6hint', label: 'IPv6 hints', kind: 'list', placeholder: '2001:db8::1' },
  { key: 'ech', label: 'ECH config list (base64)', optional: true, wide: true },
  { key: 'no-default-alpn', label: 'No default ALPN', kind: 'checkbox', wide: true },
];

const FIELDS = {
  A: [{ key: 'address', label: 'IPv4 address', placeholder: '192.0.2.1', inputmode: 'decimal' }],
  AAAA: [{ key: 'address', label: 'IPv6 address', placeholder: '2001:db8::1' }],
  CNAME: [{ key: 'target', label: 'Alias of', placeholder: 'example.com' }],
  NS: [{ key: 'target', label: 'Name server', placeholder: 'ns1.example.com' }],
  MX: [
    { key: 'preference', label: 'Preference', kind: 'number', value: '10' },
    { key: 'exchange', label: 'Mail server', placeholder: 'mail.example.com' },
  ],
  TXT: [{ key: 'text', label: 'Text', kind: 'textarea', wide: true, placeholder: 'any text, any length' }],
  HTTPS: SVCB_FIELDS,
  SVCB: SVCB_FIELDS,
};

// The SVCB params the form edits; any other param of a loaded record is kept as it was.
const FORM_PARAMS = new Set(['alpn', 'port', 'ipv4hint', 'ipv6hint', 'ech', 'no-default-alpn']);

export const DEFAULT_TTL = 300;

const ERROR_DELAY_MS = 700;

/** onChange() after any edit. */
export function recordEditor(list, { onChange }) {
  let origin = '';
  let rows = [];

  function renumber() {
    rows.forEach((row, index) => {
      row.title.textContent = `Record ${index + 1}: ${row.type}`;
      row.remove.setAttribute('aria-label', `Remove record ${index + 1} (${row.type})`);
    });
  }

  function addRow(type, record = null) {
    const row = { type, record, dirty: record === null, showErrors: false, inputs: {}, errors: {} };
    const editable = Object.hasOwn(FIELDS, type);
    const titleId = uid('record-title');
    row.title = h('h3', { id: titleId });
    row.remove = h('button', { type: 'button', class: 'quiet danger' }, 'Remove');
    row.remove.addEventListener('click', () => {
      const index = rows.indexOf(row);
      rows.splice(index, 1);
      row.element.remove();
      renumber();
      onChange();
      // Keyboard focus would otherwise fall back to the top of the page.
      (rows[Math.min(index, rows.length - 1)]?.remove ?? document.getElementById('record-add-type')).focus();
    });
    row.general = h('p', { class: 'field-error', hidden: true });

    const fields = [
      field(row, { key: 'name', label: 'Name', placeholder: '@' }, record ? relativeName(origin, record.name) : '@'),
      field(row, { key: 'ttl', label: 'TTL (seconds)', kind: 'number' }, String(record ? record.ttl : DEFAULT_TTL)),
    ];
    if (editable) {
      const values = record ? formValues(type, record.data) : {};
      row.extraParams = record && record.data.params ? keptParams(record.data.params) : {};
      for (const spec of FIELDS[type]) {
        fields.push(field(row, spec, values[spec.key] ?? spec.value ?? ''));
      }
    }
    const kept = Object.keys(row.extraParams ?? {});
    row.element = h('li', { class: 'record', 'aria-labelledby': titleId },
      h('div', { class: 'record-head' }, row.title, row.remove),
      h('div', { class: 'fields' }, fields),
      editable ? null : h('p', { class: 'hint' }, 'This type has no form here; the record is published as it is: ',
        h('code', {}, presentation(record))),
      kept.length ? h('p', { class: 'hint' }, `Also kept as published: ${kept.join(', ')}.`) : null,
      row.general);
    // Errors appear after a pause in typing, not at the first digit. Not on blur: a message appearing then moves
    // the Publish button away between the press and the release of a click, and the click is lost.
    row.element.addEventListener('input', () => {
      row.dirty = true;
      clearTimeout(row.pause);
      row.pause = setTimeout(() => {
        row.showErrors = true;
        refresh(row);
      }, ERROR_DELAY_MS);
      refresh(row);
      onChange();
    });
    rows.push(row);
    list.append(row.element);
    renumber();
    return row;
  }

  function refresh(row) {
    const problem = read(row).problem;
    for (const [key, slot] of Object.entries(row.errors)) {
      const show = row.showErrors && problem && problem.field === key;
      slot.hidden = !show;
      slot.textContent = show ? problem.message : '';
      row.inputs[key].setAttribute('aria-invalid', show ? 'true' : 'false');
    }
    const general = row.showErrors && problem && !Object.hasOwn(row.errors, problem.field);
    row.general.hidden = !general;
    row.general.textContent = general ? problem.message : '';
  }

  function read(row) {
    if (!row.dirty) {
      return { record: row.record, problem: null };
    }
    const value = (key) => row.inputs[key].value.trim();
    const ttl = whole(value('ttl'));
    if (ttl === null) {
      return { problem: { field: 'ttl', message: 'TTL: a whole number of seconds, such as 300' } };
    }
    const data = {};
    for (const spec of FIELDS[row.type] ?? []) {
      const input = row.inputs[spec.key];
      if (spec.kind === 'checkbox') {
        if (input.checked) {
          data[spec.key] = true;
        }
      } else if (spec.kind === 'number') {
        const text = value(spec.key);
        if (text === '' && spec.optional) {
          continue;
        }
        const n = whole(text);
        if (n === null) {
          return { problem: { field: spec.key, message: `${spec.label}: a whole number` } };
        }
        data[spec.key] = n;
      } else if (spec.kind === 'list') {
        const items = value(spec.key).split(',').map((item) => item.trim()).filter(Boolean);
        if (items.length) {
          data[spec.key] = items;
        }
      } else if (spec.kind === 'textarea') {
        data[spec.key] = input.value; // TXT keeps its spaces and line breaks
      } else if (!(spec.optional && value(spec.key) === '')) {
        data[spec.key] = value(spec.key);
      }
    }
    const editable = Object.hasOwn(FIELDS, row.type);
    const record = { name: value('name') || '@', type: row.type, ttl, data: editable ? toData(row, data) : row.record.data };
    return { record, problem: validateRecord(record, origin) };
  }

  return {
    /** Starts over for `z32` with `records` (decoded from its packet; [] for none). */
    load(z32, records) {
      origin = z32;
      rows = [];
      fill(list);
      for (const record of records) {
        addRow(record.type, record);
      }
      onChange();
    },
    /** Adds an empty row of `type` and puts the cursor in it. */
    add(type) {
      const row = addRow(type);
      onChange();
      (row.inputs.address ?? row.inputs.target ?? row.inputs.text ?? row.inputs.name).focus();
    },
    /** The records in order, and the first problem per row ({ index, field, message }). */
    read() {
      const records = [];
      const problems = [];
      rows.forEach((row, index) => {
        const { record, problem } = read(row);
        if (problem) {
          problems.push({ index, ...problem });
        } else {
          records.push(record);
        }
      });
      return { records, problems };
    },
    /** Shows every row's problem and moves the focus to the first. */
    showProblems() {
      let first = null;
      for (const row of rows) {
        row.showErrors = true;
        refresh(row);
        const problem = read(row).problem;
        if (problem && !first) {
          first = row.inputs[problem.field] ?? row.remove;
        }
      }
      first?.focus();
    },
    get count() {
      return rows.length;
    },
  };
}

/** A labelled input (and its error slot) for `spec` in `row`. */
function field(row, spec, value) {
  const id = uid(`record-${spec.key}`);
  const errorId = `${id}-error`;
  const error = h('p', { class: 'field-error', id: errorId, hidden: true });
  let input;
  if (spec.kind === 'checkbox') {
    input = h('input', { id, type: 'checkbox', checked: value === true });
    row.inputs[spec.key] = input;
    row.errors[spec.key] = error;
    return h('div', { class: spec.wide ? 'check wide' : 'check' }, input, h('label', { for: id }, spec.label), error);
  }
  if (spec.kind === 'textarea') {
    input = h('textarea', { id, rows: 3, spellcheck: 'false', placeholder: spec.placeholder, 'aria-describedby': errorId });
    input.value = value;
  } else {
    input = h('input', {
      id, type: 'text', value, placeholder: spec.placeholder, autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false',
      inputmode: spec.kind === 'number' ? 'numeric' : spec.inputmode, 'aria-describedby': errorId,
    });
  }
  row.inputs[spec.key] = input;
  row.errors[spec.key] = error;
  return h('div', { class: spec.wide ? 'wide' : null }, h('label', { for: id }, spec.label), input, error);
}

/** The form's values for decoded `data` of `type`. */
function formValues(type, data) {
  if (type === 'HTTPS' || type === 'SVCB') {
    const p = data.params ?? {};
    return {
      priority: String(data.priority), target: data.target, alpn: (p.alpn ?? []).join(', '),
      port: p.port === undefined ? '' : String(p.port), ipv4hint: (p.ipv4hint ?? []).join(', '),
      ipv6hint: (p.ipv6hint ?? []).join(', '), ech: p.ech ?? '', 'no-default-alpn': Boolean(p['no-default-alpn']),
    };
  }
  if (type === 'MX') {
    return { preference: String(data.preference), exchange: data.exchange };
  }
  return data; // A, AAAA: address; CNAME, NS: target; TXT: text
}

function keptParams(params) {
  return Object.fromEntries(Object.entries(params).filter(([key]) => !FORM_PARAMS.has(key)));
}

/** The form's flat data in the shape dns.js expects. */
function toData(row, data) {
  if (row.type !== 'HTTPS' && row.type !== 'SVCB') {
    return data;
  }
  const { priority, target, ...params } = data;
  return { priority, target: target || '.', params: { ...row.extraParams, ...params } };
}

/** A non-negative whole number from decimal digits, or null. */
function whole(text) {
  return /^\d+$/.test(text) ? Number(text) : null;
}
