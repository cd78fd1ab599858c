/**
 * graphql-ws's server on `ws` sockets: graphql-ws/use/ws's `useServer`, with the same behaviour (protocol
 * check, keep-alive ping and termination, close codes), but handing each message to graphql-ws without
 * keeping it. An internal failure closes the socket with "Internal server error" as useServer does in
 * production, in every environment (no NODE_ENV here: configuration is read in config.ts).
 *
 * Why not `useServer` itself: its message listener is an async function awaiting graphql-ws's handler, and
 * for a subscription that handler runs until the operation ends. So every open subscription kept a suspended
 * frame holding the message's Buffer, a view that keeps the socket's whole receive chunk alive: about 0.7 KB
 * per subscription (heap snapshots of bench/fanout.ts). Here the listener is synchronous and only the
 * handler's promise is watched for failure. And a client that sends a message only a server may send
 * (`next`, `error`, `connection_ack`) is refused as the protocol error it is (4400, Bad Request), where
 * graphql-ws throws and useServer would close with 4500 and print an "internal error".
 */
import { CloseCode, handleProtocols, makeServer, type ConnectionInitMessage, type ServerOptions } from 'graphql-ws';
import type { Extra } from 'graphql-ws/use/ws';
import type { WebSocketServer } from 'ws';

const INTERNAL_ERROR = 'Internal server error';
/** What graphql-ws throws for a message type only a server sends. */
const SERVER_ONLY_MESSAGE = /^Unexpected message of type \S+ received$/;

export function serveOnSockets<P extends ConnectionInitMessage['payload'] = ConnectionInitMessage['payload'], E extends Record<PropertyKey, unknown> = Record<PropertyKey, never>>(
  options: ServerOptions<P, Extra & Partial<E>>,
  ws: WebSocketServer,
  keepAliveMs: number,
): { dispose(): Promise<void> } {
  const server = makeServer(options);
  ws.options.handleProtocols = handleProtocols;

  ws.once('error', (error) => {
    console.error('Internal error emitted on the WebSocket server. Please check your implementation.', error);
    for (const client of ws.clients) client.close(CloseCode.InternalServerError, INTERNAL_ERROR);
  });

  ws.on('connection', (socket, request) => {
    socket.once('error', (error) => {
      console.error('Internal error emitted on a WebSocket socket. Please check your implementation.', error);
      socket.close(CloseCode.InternalServerError, INTERNAL_ERROR);
    });

    // A ping every interval; a socket that has not answered by the next one is terminated.
    let pongWait: NodeJS.Timeout | null = null;
    const pingInterval =
      keepAliveMs > 0 && Number.isFinite(keepAliveMs)
        ? setInterval(() => {
            if (socket.readyState !== socket.OPEN) return;
            pongWait = setTimeout(() => socket.terminate(), keepAliveMs);
            socket.once('pong', () => {
              if (pongWait) clearTimeout(pongWait);
              pongWait = null;
            });
            socket.ping();
          }, keepAliveMs)
        : null;

    const failed = (error: unknown) => {
      if (error instanceof Error && SERVER_ONLY_MESSAGE.test(error.message)) return socket.close(CloseCode.BadRequest, error.message);
      console.error('Internal error occurred during message handling. Please check your implementation.', error);
      socket.close(CloseCode.InternalServerError, INTERNAL_ERROR);
    };
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) => {
            handle(String(data)).catch(failed);
          }),
      },
      { socket, request } as Extra & Partial<E>,
    );

    socket.once('close', (code, reason) => {
      if (pongWait) clearTimeout(pongWait);
      if (pingInterval) clearInterval(pingInterval);
      void closed(code, String(reason));
    });
  });

  return {
    async dispose() {
      for (const client of ws.clients) client.close(1001, 'Going away');
      ws.removeAllListeners();
      await new Promise<void>((resolve, reject) => ws.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
