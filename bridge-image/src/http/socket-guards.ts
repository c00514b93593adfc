import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';

type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * The server's 'upgrade' listener around `handle`. node:http hands an upgraded socket over with no
 * 'error' listener of its own, so a peer that resets the connection (even after a refusal was
 * written) would raise an unhandled 'error' and end the process; and a throw in `handle` would
 * escape the HTTP parser's callback the same way. Here the socket always has an 'error' listener,
 * and an unexpected throw destroys that one socket and is logged.
 */
export function guardUpgrade(log: Logger, handle: UpgradeHandler): UpgradeHandler {
  return (req, socket, head) => {
    socket.on('error', (err) => log.debug('upgrade socket error', { err }));
    try {
      handle(req, socket, head);
    } catch (e) {
      log.error('upgrade failed; connection dropped', { err: e, url: req.url?.slice(0, 200) });
      socket.destroy();
    }
  };
}

/**
 * Writes `response` (a whole HTTP response) and drops the connection once it is written, as ws does
 * for its own refusals: nothing else would ever close a refused upgrade's socket (or one the parser
 * gave up on) whose peer keeps it open.
 */
export function answerAndClose(socket: Duplex, response: string): void {
  socket.once('finish', () => socket.destroy());
  socket.end(response);
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/**
 * The server's 'clientError' listener (a request the HTTP parser refused: a malformed request line,
 * headers too large, a request too slow): answers as node:http does by default, 400, 431 or 408 when
 * nothing was written on the connection yet, and always destroys the socket (a listener must).
 */
export function answerClientError(log: Logger) {
  return (err: NodeJS.ErrnoException, socket: Duplex): void => {
    log.debug('client error', { err });
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const busy = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (socket.writable && !busy && err.code !== 'ECONNRESET') {
      answerAndClose(
        socket,
        `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
      );
      return;
    }
    socket.destroy();
  };
}
