import { pyRepr } from '../errors.js';
import { ApiFault } from './faults.js';

/** The parts of an ajv error this formatter reads (ajv runs with `verbose: true`). */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
  data?: unknown;
  schema?: unknown;
  parentSchema?: Record<string, unknown>;
}

// Cinder validates with jsonschema and prints the value with Python's str(), the
// reason with jsonschema's own wording; clients only show these texts to people.
function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyRepr(value);
}

function reason(error: SchemaError): string {
  const value = pyRepr(error.data);
  switch (error.keyword) {
    case 'type': {
      const types = Array.isArray(error.schema) ? error.schema : [error.schema];
      return `${value} is not of type ${types.map((t) => pyRepr(String(t))).join(', ')}`;
    }
    case 'required':
      return `${pyRepr(String(error.params.missingProperty))} is a required property`;
    case 'additionalProperties': {
      const known = Object.keys((error.parentSchema?.properties as Record<string, unknown> | undefined) ?? {});
      const patterns = Object.keys((error.parentSchema?.patternProperties as Record<string, unknown> | undefined) ?? {}).map(
        (p) => new RegExp(p, 'u'),
      );
      const data = (error.data ?? {}) as Record<string, unknown>;
      const extras = Object.keys(data).filter((k) => !known.includes(k) && !patterns.some((p) => p.test(k)));
      const listed = extras.length ? extras : [String(error.params.additionalProperty)];
      return `Additional properties are not allowed (${listed.map((k) => pyRepr(k)).join(', ')} ${listed.length === 1 ? 'was' : 'were'} unexpected)`;
    }
    case 'enum':
      return `${value} is not one of ${pyRepr(error.schema)}`;
    case 'minimum':
      return `${value} is less than the minimum of ${String(error.params.limit)}`;
    case 'maximum':
      return `${value} is greater than the maximum of ${String(error.params.limit)}`;
    case 'minLength':
      return `${value} is too short`;
    case 'maxLength':
      return `${value} is too long`;
    case 'pattern':
      return `${value} does not match ${pyRepr(String(error.params.pattern))}`;
    case 'format':
      return `${value} is not a ${pyRepr(String(error.params.format))}`;
    case 'anyOf':
      return `${value} is not valid under any of the given schemas`;
    case 'oneOf':
      return error.params.passingSchemas
        ? `${value} is valid under each of the given schemas`
        : `${value} is not valid under any of the given schemas`;
    case 'minProperties':
      return `${value} does not have enough properties`;
    case 'maxProperties':
      return `${value} has too many properties`;
    default:
      return `${value} ${error.message ?? 'is invalid'}`;
  }
}

/**
 * Turns ajv's errors into Cinder's 400. ajv stops at the first failing keyword;
 * for anyOf/oneOf it lists the branches' errors first and the combinator's last,
 * and the combinator is what jsonschema reports, so the last error is the one.
 */
export function validationFault(errors: SchemaError[]): ApiFault {
  const error = errors[errors.length - 1];
  if (!error) return new ApiFault(400, 'Invalid input received.');
  const path = error.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const field = path[path.length - 1];
  const text = reason(error);
  if (field === undefined) return new ApiFault(400, text);
  return new ApiFault(400, `Invalid input for field/attribute ${field}. Value: ${pyStr(error.data)}. ${text}`);
}

/** A validator compiled by the server's ajv; throws Cinder's 400 on failure. */
export type CompiledValidator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

export function check(validate: CompiledValidator, data: unknown): void {
  if (!validate(data)) throw validationFault(validate.errors ?? []);
}

/** uuidutils.is_uuid_like: dashes optional, any case. */
export function isUuidLike(value: string): boolean {
  return /^[0-9a-f]{32}$/i.test(value.replace(/^urn:uuid:/i, '').replace(/^\{(.*)\}$/, '$1').replace(/-/g, ''));
}

const TRUE_STRINGS = ['True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't'];
const FALSE_STRINGS = ['False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f'];

/** Cinder's parameter_types.boolean: JSON booleans or the strings oslo accepts. */
export const BOOLEAN_SCHEMA = {
  type: ['boolean', 'string'],
  enum: [true, ...TRUE_STRINGS, false, ...FALSE_STRINGS],
};

export function toBool(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  return TRUE_STRINGS.includes(String(value));
}

/** Cinder's utils.get_bool_param for query parameters. */
export function parseBoolParam(name: string, value: string): boolean {
  const lower = value.toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(lower)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(lower)) return false;
  throw new ApiFault(400, `Value '${value}' for '${name}' is not a boolean value.`);
}
