import net from 'node:net';

/** `preferred` on 127.0.0.1 when it is free, else any free port. */
export async function choosePort(preferred: number): Promise<number> {
  if (await isFree(preferred)) return preferred;
  return listenOnce(0);
}

function isFree(port: number): Promise<boolean> {
  return listenOnce(port).then(
    () => true,
    () => false,
  );
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address() as net.AddressInfo;
      srv.close(() => resolve(addr.port));
    });
  });
}
