/**
 * containerd's [grpc] address is a plain socket path, while crictl and the kubelet/kubeadm
 * want a URL; both must name the same socket, so every renderer derives the URL here.
 */
export function criEndpoint(socket: string): string {
  return `unix://${socket}`;
}
