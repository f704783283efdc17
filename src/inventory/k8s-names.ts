// Kubernetes naming rules the inventory must follow: node names, the cluster name, labels.
// Each check returns why a name is wrong (for the message), or undefined when it is fine.
import { quote } from './problem.js';

/** RFC 1123 label as Kubernetes uses it: also the schema's pattern for host and cluster names. */
export const DNS1123_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_LABEL_RULE =
  'a DNS-1123 label: at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit';

const SUBDOMAIN_PART = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_NAME_RULE = 'at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit';

export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const [prefix, name] = slash === -1 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined) {
    if (prefix.length === 0 || prefix.length > 253 || !prefix.split('.').every((p) => SUBDOMAIN_PART.test(p))) {
      return `the prefix ${quote(prefix)} must be a DNS subdomain such as example.com (lowercase, at most 253 characters)`;
    }
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return prefix === undefined
      ? `it must be ${LABEL_NAME_RULE}, optionally after a DNS prefix and "/" (example.com/zone)`
      : `the name part ${quote(name)} must be ${LABEL_NAME_RULE}`;
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !LABEL_NAME.test(value)) return `it must be empty or ${LABEL_NAME_RULE}`;
  return undefined;
}
