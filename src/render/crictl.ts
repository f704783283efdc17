import { stringify } from 'yaml';
import { criEndpoint } from './cri-endpoint.js';
import { MANAGED_HEADER } from './header.js';

/** /etc/crictl.yaml: crictl must talk to the socket containerd's [grpc] address names. */
export function renderCrictlConfig(socket: string): string {
  const endpoint = criEndpoint(socket);
  const config = {
    'runtime-endpoint': endpoint,
    'image-endpoint': endpoint,
    timeout: 10,
    debug: false,
  };
  return `${MANAGED_HEADER}\n${stringify(config)}`;
}
