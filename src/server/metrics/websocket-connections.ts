/** Counts open WebSocket connections into `gsms_websocket_connections`. */
import type { Gauge } from 'prom-client';
import type { WebSocketServer } from 'ws';

export function countWebSocketConnections(wsServer: WebSocketServer, gauge: Gauge): void {
  wsServer.on('connection', (socket) => {
    gauge.inc();
    socket.once('close', () => gauge.dec());
  });
}
