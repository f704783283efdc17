// What a network add-on manifest (Flannel's kube-flannel.yml, Calico's calico.yaml or the
// operator's custom-resources.yaml) needs and configures, read on the laptop before anything
// changes: the images its workloads run (an offline install must carry them) and the pod CIDRs
// it sets (they must equal kubeadm's podSubnet, or pods get addresses the cluster does not
// route). Pure: text in, facts out; no I/O.
import { isMap, isScalar, LineCounter, parseAllDocuments, type Document, type Node, type Scalar } from 'yaml';
import { normalizeImageRef } from './kubeadm-images.js';

export type AddonKind = 'flannel' | 'calico' | 'unknown';

/** Where a pod CIDR came from, in the manifest's own words: `net-conf.json "Network"`. */
export interface PodCidrSource {
  cidr: string;
  /** The manifest key that sets it, for messages. */
  key: string;
}

export interface AddonManifest {
  /** Every containers[].image and initContainers[].image of the pod templates, unique, in order. */
  images: string[];
  /** Pod CIDRs the manifest configures, unique, in order; empty when it leaves them to a default. */
  podCidrs: string[];
  /** podCidrs with the key each came from (same order). */
  podCidrSources: PodCidrSource[];
  kind: AddonKind;
}

/** A manifest that cannot be read: the message starts with FILE:LINE:COL in the manifest. */
export class AddonManifestError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}:${col}: ${detail}`);
    this.name = 'AddonManifestError';
  }
}

type Raw = Record<string, unknown>;

function record(value: unknown): Raw | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Raw) : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Pod specs of one object: a Pod, the template of a workload, a CronJob's job template. */
function podSpecs(object: Raw): Raw[] {
  const kind = object.kind;
  const spec = record(object.spec);
  if (!spec) return [];
  if (kind === 'Pod') return [spec];
  if (kind === 'CronJob') {
    const pod = record(record(record(record(spec.jobTemplate)?.spec)?.template)?.spec);
    return pod ? [pod] : [];
  }
  // Deployment, DaemonSet, StatefulSet, ReplicaSet, Job, ReplicationController, PodTemplate-like.
  const template = record(record(spec.template)?.spec);
  if (template) return [template];
  // kind: PodTemplate keeps its template at the top level.
  const podTemplate = record(record(object.template)?.spec);
  return podTemplate ? [podTemplate] : [];
}

function containersOf(pod: Raw): Raw[] {
  return [...list(pod.initContainers), ...list(pod.containers)].map(record).filter((c): c is Raw => c !== undefined);
}

const CALICO_ENV: Record<string, string> = {
  CALICO_IPV4POOL_CIDR: 'env CALICO_IPV4POOL_CIDR',
  CALICO_IPV6POOL_CIDR: 'env CALICO_IPV6POOL_CIDR',
};

/** Objects of a document, with those inside a `kind: List` flattened. */
function objectsOf(value: unknown): Raw[] {
  const object = record(value);
  if (!object) return [];
  if (object.kind === 'List' || (typeof object.kind === 'string' && object.kind.endsWith('List') && Array.isArray(object.items))) {
    return list(object.items).flatMap(objectsOf);
  }
  return [object];
}

function positionOf(lineCounter: LineCounter, offset: number): { line: number; col: number } {
  return lineCounter.linePos(offset);
}

/**
 * Parse the manifest (multi-document YAML) and report what it needs and configures.
 * Throws AddonManifestError (FILE:LINE:COL) for YAML that does not parse and for a Flannel
 * net-conf.json that is not JSON.
 */
export function analyzeAddonManifest(text: string, file: string): AddonManifest {
  const lineCounter = new LineCounter();
  // An empty text parses to an empty stream (no documents): nothing configured, nothing needed.
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) {
      const { line, col } = positionOf(lineCounter, error.pos[0]);
      throw new AddonManifestError(file, line, col, `not valid YAML: ${error.message.split('\n')[0]!.split(' at line ')[0]}`);
    }
  }

  const images = new Map<string, string>();
  const cidrs = new Map<string, PodCidrSource>();
  const addCidr = (cidr: unknown, key: string) => {
    if (typeof cidr !== 'string' || cidr.trim() === '') return;
    const value = cidr.trim();
    if (!cidrs.has(value)) cidrs.set(value, { cidr: value, key });
  };
  let flannel = false;
  let calico = false;

  for (const doc of docs) {
    let objects: Raw[];
    try {
      objects = objectsOf(doc.toJS({ maxAliasCount: 1000 }));
    } catch (err) {
      const { line, col } = positionOf(lineCounter, doc.range[0]);
      throw new AddonManifestError(file, line, col, `cannot be read: ${(err as Error).message}`);
    }
    for (const object of objects) {
      const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : '';
      for (const pod of podSpecs(object)) {
        for (const container of containersOf(pod)) {
          const image = container.image;
          if (typeof image === 'string' && image.trim() !== '') {
            const key = normalizeImageRef(image);
            if (!images.has(key)) images.set(key, image.trim());
            if (/(^|\/)flannel(-cni-plugin)?[:@/]|\/flannel\//.test(image)) flannel = true;
            if (/(^|\/)calico\//.test(image) || /(^|\/)tigera\/operator[:@]/.test(image)) calico = true;
          }
          for (const env of list(container.env).map(record)) {
            const name = env?.name;
            if (typeof name === 'string' && Object.hasOwn(CALICO_ENV, name)) {
              calico = true;
              addCidr(env!.value, CALICO_ENV[name]!);
            }
          }
        }
      }
      if (object.kind === 'ConfigMap') {
        const data = record(object.data);
        if (data && 'net-conf.json' in data) {
          flannel = true;
          const conf = parseNetConf(text, doc, data['net-conf.json'], object, lineCounter, file);
          addCidr(conf.Network, 'net-conf.json "Network"');
          addCidr(conf.IPv6Network, 'net-conf.json "IPv6Network"');
        }
      }
      if (object.kind === 'Installation' && apiVersion.startsWith('operator.tigera.io/')) {
        calico = true;
        const pools = list(record(record(object.spec)?.calicoNetwork)?.ipPools);
        pools.forEach((pool, i) => addCidr(record(pool)?.cidr, `Installation spec.calicoNetwork.ipPools[${i}].cidr`));
      }
    }
  }

  const podCidrSources = [...cidrs.values()];
  return {
    images: [...images.values()],
    podCidrs: podCidrSources.map((s) => s.cidr),
    podCidrSources,
    kind: flannel && !calico ? 'flannel' : calico && !flannel ? 'calico' : 'unknown',
  };
}

/** Flannel's net-conf.json: JSON text inside a ConfigMap; its errors point into the manifest. */
function parseNetConf(text: string, doc: Document.Parsed, value: unknown, object: Raw, lineCounter: LineCounter, file: string): Raw {
  const node = netConfNode(doc, object);
  const start = node?.range?.[0] ?? doc.range[0];
  if (typeof value !== 'string') {
    const { line, col } = positionOf(lineCounter, start);
    throw new AddonManifestError(file, line, col, 'ConfigMap data "net-conf.json" is not a string of JSON');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    const message = (err as Error).message;
    const { line, col } = jsonErrorPosition(text, node, value, message, lineCounter, start);
    throw new AddonManifestError(file, line, col, `ConfigMap data "net-conf.json" is not valid JSON: ${message}`);
  }
  const conf = record(parsed);
  if (!conf) {
    const { line, col } = positionOf(lineCounter, start);
    throw new AddonManifestError(file, line, col, 'ConfigMap data "net-conf.json" is not a JSON object');
  }
  return conf;
}

/** The scalar node holding data["net-conf.json"] of this ConfigMap, to place JSON errors. */
function netConfNode(doc: Document, object: Raw): Scalar | undefined {
  const root = doc.contents as Node | null;
  const candidates: Node[] = [];
  if (isMap(root)) {
    if (root.get('kind') === 'List') {
      const items = root.get('items', true) as unknown as { items?: Node[] } | undefined;
      candidates.push(...(items?.items ?? []));
    } else candidates.push(root);
  }
  const name = record(object.metadata)?.name;
  for (const candidate of candidates) {
    if (!isMap(candidate) || candidate.get('kind') !== 'ConfigMap') continue;
    const metadata = candidate.get('metadata', true);
    if (isMap(metadata) && metadata.get('name') !== name) continue;
    const data = candidate.get('data', true);
    const node = isMap(data) ? data.get('net-conf.json', true) : undefined;
    if (isScalar(node)) return node;
  }
  return undefined;
}

/**
 * V8 names the offset ("... in JSON at position 42"); map it to the manifest's line and column.
 * In a block scalar (`|`) each JSON line is a manifest line, shifted by the block's indentation
 * (that of its first non-empty line). Elsewhere the scalar's own position is the best there is.
 */
function jsonErrorPosition(
  text: string,
  node: Scalar | undefined,
  json: string,
  message: string,
  lineCounter: LineCounter,
  fallback: number,
): { line: number; col: number } {
  const at = lineCounter.linePos(fallback);
  const m = /position (\d+)/.exec(message);
  if (!node || !m || (node.type !== 'BLOCK_LITERAL' && node.type !== 'BLOCK_FOLDED')) return at;
  const before = json.slice(0, Math.min(Number(m[1]), json.length)).split('\n');
  const jsonLine = before.length - 1;
  const jsonCol = before.at(-1)!.length;
  // The content starts on the line after the block's header (`|`, `|-`, `|2` ...).
  const contentStart = at.line + 1;
  const lines = text.split('\n');
  const firstContent = lines.slice(contentStart - 1).find((l) => l.trim() !== '') ?? '';
  const indent = /^ */.exec(firstContent)![0].length;
  return { line: contentStart + jsonLine, col: indent + jsonCol + 1 };
}
