package dev.ublkgateway.core.frontend.nbd;

/** TLS between the client's socket and a plain socket the connection uses as it would the client's. */
interface Tunnel extends AutoCloseable {
    /** The connection's side: plain NBD in and out. */
    int innerFd();

    /** After the connection is done with its side: flushes, says goodbye, stops; the client's socket stays open. */
    @Override
    void close();
}
