import { describe, expect, it } from 'vitest';
import { parseNodeList } from './kubectl.js';

describe('reading node readiness from kubectl get nodes -o json', () => {
  it('takes each node\'s Ready condition, with the reason and message of a NotReady one', () => {
    const json = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { metadata: { name: 'cp1' }, status: { conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }] } },
        {
          metadata: { name: 'w1' },
          status: {
            conditions: [
              {
                type: 'Ready',
                status: 'False',
                reason: 'KubeletNotReady',
                message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
              },
            ],
          },
        },
        { metadata: { name: 'w2' }, status: {} },
      ],
    });
    expect(parseNodeList(json)).toEqual([
      { name: 'cp1', ready: true, message: 'Ready' },
      { name: 'w1', ready: false, message: expect.stringMatching(/^KubeletNotReady: container runtime network not ready/) },
      { name: 'w2', ready: false, message: 'no Ready condition reported yet' },
    ]);
  });

  it('says so when kubectl printed something that is not JSON', () => {
    expect(() => parseNodeList('error: the server has asked for the client to provide credentials')).toThrow(/not JSON/);
  });
});
