import { describe, expect, it } from 'vitest';
import { AddonManifestError, analyzeAddonManifest } from './addon-manifest.js';

// Trimmed from kube-flannel.yml (flannel v0.25): the shapes that matter, in upstream's order.
export const FLANNEL = `---
kind: Namespace
apiVersion: v1
metadata:
  name: kube-flannel
  labels:
    pod-security.kubernetes.io/enforce: privileged
---
kind: ServiceAccount
apiVersion: v1
metadata:
  name: flannel
  namespace: kube-flannel
---
kind: ConfigMap
apiVersion: v1
metadata:
  name: kube-flannel-cfg
  namespace: kube-flannel
data:
  cni-conf.json: |
    {
      "name": "cbr0",
      "cniVersion": "0.3.1",
      "plugins": [ { "type": "flannel", "delegate": { "hairpinMode": true, "isDefaultGateway": true } } ]
    }
  net-conf.json: |
    {
      "Network": "10.244.0.0/16",
      "EnableNFTables": false,
      "Backend": {
        "Type": "vxlan"
      }
    }
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-flannel-ds
  namespace: kube-flannel
spec:
  selector:
    matchLabels:
      app: flannel
  template:
    metadata:
      labels:
        app: flannel
    spec:
      hostNetwork: true
      initContainers:
      - name: install-cni-plugin
        image: docker.io/flannel/flannel-cni-plugin:v1.5.1-flannel2
        command: [cp]
      - name: install-cni
        image: docker.io/flannel/flannel:v0.25.6
        command: [cp]
      containers:
      - name: kube-flannel
        image: docker.io/flannel/flannel:v0.25.6
        command: [/opt/bin/flanneld]
        args: [--ip-masq, --kube-subnet-mgr]
`;

// Trimmed from calico.yaml (manifest install, v3.28), the pool CIDR uncommented as users do.
export const CALICO = `---
kind: ConfigMap
apiVersion: v1
metadata:
  name: calico-config
  namespace: kube-system
data:
  typha_service_name: "none"
  calico_backend: "bird"
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ippools.crd.projectcalico.org
spec:
  group: crd.projectcalico.org
  names: { kind: IPPool, plural: ippools, singular: ippool }
  scope: Cluster
  versions: [{ name: v1, served: true, storage: true, schema: { openAPIV3Schema: { type: object } } }]
---
kind: DaemonSet
apiVersion: apps/v1
metadata:
  name: calico-node
  namespace: kube-system
spec:
  selector:
    matchLabels:
      k8s-app: calico-node
  template:
    metadata:
      labels:
        k8s-app: calico-node
    spec:
      hostNetwork: true
      initContainers:
        - name: upgrade-ipam
          image: docker.io/calico/cni:v3.28.1
          command: ["/opt/cni/bin/calico-ipam", "-upgrade"]
        - name: install-cni
          image: docker.io/calico/cni:v3.28.1
          command: ["/opt/cni/bin/install"]
        - name: mount-bpffs
          image: docker.io/calico/node:v3.28.1
          command: ["calico-node", "-init", "-best-effort"]
      containers:
        - name: calico-node
          image: docker.io/calico/node:v3.28.1
          env:
            - name: DATASTORE_TYPE
              value: "kubernetes"
            - name: CALICO_IPV4POOL_IPIP
              value: "Always"
            # The default IPv4 pool to create on startup if none exists.
            - name: CALICO_IPV4POOL_CIDR
              value: "192.168.0.0/16"
            - name: FELIX_IPV6SUPPORT
              value: "false"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: calico-kube-controllers
  namespace: kube-system
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: calico-kube-controllers
          image: docker.io/calico/kube-controllers:v3.28.1
`;

// The operator install's custom-resources.yaml.
const CALICO_OPERATOR_CR = `apiVersion: operator.tigera.io/v1
kind: Installation
metadata:
  name: default
spec:
  calicoNetwork:
    ipPools:
    - name: default-ipv4-ippool
      blockSize: 26
      cidr: 10.245.0.0/16
      encapsulation: VXLANCrossSubnet
      natOutgoing: Enabled
      nodeSelector: all()
---
apiVersion: operator.tigera.io/v1
kind: APIServer
metadata:
  name: default
spec: {}
`;

function thrown(fn: () => unknown): AddonManifestError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AddonManifestError) return err;
    throw err;
  }
  throw new Error('expected an AddonManifestError');
}

describe('analyzeAddonManifest', () => {
  it('reads Flannel: images of init containers and containers once each, net-conf.json Network', () => {
    expect(analyzeAddonManifest(FLANNEL, 'kube-flannel.yml')).toEqual({
      images: ['docker.io/flannel/flannel-cni-plugin:v1.5.1-flannel2', 'docker.io/flannel/flannel:v0.25.6'],
      podCidrs: ['10.244.0.0/16'],
      podCidrSources: [{ cidr: '10.244.0.0/16', key: 'net-conf.json "Network"' }],
      kind: 'flannel',
    });
  });

  it('reads a dual-stack Flannel net-conf.json', () => {
    const dual = FLANNEL.replace('"Network": "10.244.0.0/16",', '"Network": "10.244.0.0/16",\n      "EnableIPv6": true,\n      "IPv6Network": "fd00:10:244::/56",');
    expect(analyzeAddonManifest(dual, 'f.yml').podCidrSources).toEqual([
      { cidr: '10.244.0.0/16', key: 'net-conf.json "Network"' },
      { cidr: 'fd00:10:244::/56', key: 'net-conf.json "IPv6Network"' },
    ]);
  });

  it('reads Calico: images of every workload, CALICO_IPV4POOL_CIDR of any container', () => {
    expect(analyzeAddonManifest(CALICO, 'calico.yaml')).toEqual({
      images: ['docker.io/calico/cni:v3.28.1', 'docker.io/calico/node:v3.28.1', 'docker.io/calico/kube-controllers:v3.28.1'],
      podCidrs: ['192.168.0.0/16'],
      podCidrSources: [{ cidr: '192.168.0.0/16', key: 'env CALICO_IPV4POOL_CIDR' }],
      kind: 'calico',
    });
  });

  it('configures no CIDR when Calico leaves the pool variables commented out, as upstream ships it', () => {
    const shipped = CALICO.replace(/            - name: CALICO_IPV4POOL_CIDR\n              value: "192.168.0.0\/16"\n/, '            # - name: CALICO_IPV4POOL_CIDR\n            #   value: "192.168.0.0/16"\n');
    expect(analyzeAddonManifest(shipped, 'calico.yaml')).toMatchObject({ podCidrs: [], kind: 'calico' });
  });

  it('reads the pools of a Calico operator Installation', () => {
    expect(analyzeAddonManifest(CALICO_OPERATOR_CR, 'custom-resources.yaml')).toEqual({
      images: [],
      podCidrs: ['10.245.0.0/16'],
      podCidrSources: [{ cidr: '10.245.0.0/16', key: 'Installation spec.calicoNetwork.ipPools[0].cidr' }],
      kind: 'calico',
    });
    const operatorDefault = CALICO_OPERATOR_CR.replace('      cidr: 10.245.0.0/16\n', '');
    expect(analyzeAddonManifest(operatorDefault, 'custom-resources.yaml').podCidrs).toEqual([]);
  });

  it('finds images in Pods, CronJobs and Lists, treating one image written two ways as one', () => {
    const text = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: { name: a }
    spec:
      containers: [{ name: a, image: busybox }]
  - apiVersion: batch/v1
    kind: CronJob
    metadata: { name: b }
    spec:
      schedule: "* * * * *"
      jobTemplate:
        spec:
          template:
            spec:
              containers: [{ name: b, image: "docker.io/library/busybox:latest" }, { name: c, image: "registry.example.com/c@sha256:${'a'.repeat(64)}" }]
---
# an empty document between two others
---
apiVersion: v1
kind: Service
metadata: { name: s }
spec: { ports: [{ port: 53 }] }
`;
    expect(analyzeAddonManifest(text, 'm.yaml')).toEqual({
      images: ['busybox', `registry.example.com/c@sha256:${'a'.repeat(64)}`],
      podCidrs: [],
      podCidrSources: [],
      kind: 'unknown',
    });
  });

  it('reads an empty manifest as one that needs and configures nothing', () => {
    expect(analyzeAddonManifest('', 'empty.yaml')).toEqual({ images: [], podCidrs: [], podCidrSources: [], kind: 'unknown' });
  });

  it('reports YAML that does not parse at FILE:LINE:COL of the manifest', () => {
    const broken = CALICO.replace('      hostNetwork: true\n', '      hostNetwork: true\n     bad: indent\n');
    const error = thrown(() => analyzeAddonManifest(broken, '/m/calico.yaml'));
    const line = broken.split('\n').indexOf('     bad: indent') + 1;
    expect(error.file).toBe('/m/calico.yaml');
    expect(error.line).toBe(line);
    expect(error.message).toMatch(new RegExp(`^/m/calico\\.yaml:${line}:\\d+: not valid YAML: `));
  });

  it('reports duplicate keys as invalid YAML', () => {
    const error = thrown(() => analyzeAddonManifest('kind: Pod\nkind: Pod\n', 'dup.yaml'));
    expect(error.message).toMatch(/^dup\.yaml:2:1: not valid YAML: /);
  });

  it('reports net-conf.json that is not JSON at the line and column of the mistake', () => {
    const broken = FLANNEL.replace('"EnableNFTables": false,', '"EnableNFTables": false,,');
    const error = thrown(() => analyzeAddonManifest(broken, 'kube-flannel.yml'));
    const lines = broken.split('\n');
    const line = lines.findIndex((l) => l.includes('false,,')) + 1;
    expect(error.line).toBe(line);
    expect(error.col).toBe(lines[line - 1]!.indexOf(',,') + 2);
    expect(error.message).toMatch(new RegExp(`^kube-flannel\\.yml:${line}:${error.col}: ConfigMap data "net-conf.json" is not valid JSON: `));
  });

  it('reports net-conf.json that is not a JSON object', () => {
    const error = thrown(() => analyzeAddonManifest('kind: ConfigMap\nmetadata: { name: x }\ndata:\n  net-conf.json: "[1]"\n', 'f.yml'));
    expect(error.message).toBe('f.yml:4:18: ConfigMap data "net-conf.json" is not a JSON object');
  });
});
