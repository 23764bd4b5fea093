package dev.ublkgateway.plugins.s3;

import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;

/**
 * A small HTTP/1.1 client to one server over pooled keep-alive connections: one request with a
 * Content-Length body, one response read whole (Content-Length, chunked, or up to the close). The
 * caller bounds the requests in flight, and so the connections. A connection that saw any error or a
 * {@code Connection: close} is closed, never reused; an attempt past its deadline has its socket closed
 * by a watchdog, since a blocking write has no timeout of its own.
 */
final class S3Http implements AutoCloseable {
    /** Servers close idle keep-alive connections after some seconds (S3 about 20, Jetty 30); older ones are not reused. */
    private static final long MAX_IDLE_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** An error body larger than this is not read (the connection is dropped instead). */
    private static final int MAX_ERROR_BODY = 1 << 20;
    private static final int BUFFER = 16 * 1024;

    /** A whole response: status, body, and the error code of an S3 error body (or null). */
    record Response(int status, byte[] body) {
        /** The {@code <Code>} of an S3 error document, or null. */
        String errorCode() {
            if (body == null || body.length == 0) return null;
            String s = new String(body, StandardCharsets.UTF_8);
            int a = s.indexOf("<Code>"), b = s.indexOf("</Code>");
            return a >= 0 && b > a ? s.substring(a + 6, b).strip() : null;
        }
    }

    /** The attempt's deadline passed: the watchdog closed its socket or a read timed out. */
    static final class AttemptTimeoutException extends IOException {
        AttemptTimeoutException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final String host;
    private final int port;
    private final boolean tls;
    private final String hostHeader;
    private final int connectTimeoutMillis;
    private final SSLSocketFactory tlsSockets;
    private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private final Thread watchdog;
    private volatile boolean closed;

    S3Http(String scheme, String host, int port, int connectTimeoutSeconds) {
        this(scheme, host, port, connectTimeoutSeconds, (SSLSocketFactory) SSLSocketFactory.getDefault());
    }

    /** With the JDK's trust store, or (tests) another. */
    S3Http(String scheme, String host, int port, int connectTimeoutSeconds, SSLSocketFactory tlsSockets) {
        this.tlsSockets = tlsSockets;
        this.tls = "https".equals(scheme);
        this.host = host;
        this.port = port > 0 ? port : tls ? 443 : 80;
        this.hostHeader = port > 0 && port != (tls ? 443 : 80) ? host + ":" + port : host;
        this.connectTimeoutMillis = connectTimeoutSeconds * 1000;
        this.watchdog = Thread.ofPlatform().daemon().name("s3-http-watchdog").unstarted(this::watch);
        watchdog.start();
    }

    /** The value of the Host header (and of the signed host). */
    String hostHeader() {
        return hostHeader;
    }

    boolean tls() {
        return tls;
    }

    /**
     * Sends {@code method target} with the header lines {@code headers} (each ending in CRLF; Host and
     * Content-Length are added) and the body slice, and reads the whole response before {@code deadline}
     * ({@link System#nanoTime()}).
     */
    Response exchange(String method, String target, String headers, byte[] body, int offset, int length, long deadline)
            throws IOException {
        while (true) {
            Connection c = idle.pollFirst();
            boolean reused = c != null;
            if (c != null && System.nanoTime() - c.idleSince > MAX_IDLE_NANOS) {
                c.close();
                continue;
            }
            if (c == null) c = connect(deadline);
            try {
                return c.exchange(method, target, headers, body, offset, length, deadline);
            } catch (StaleConnectionException e) {
                // the server closed a pooled connection before this request reached it: send it again on another
                c.close();
                if (!reused) throw new IOException("the connection was closed before a response", e.getCause());
            }
        }
    }

    private Connection connect(long deadline) throws IOException {
        if (closed) throw new IOException("the S3 client is closed");
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) throw new AttemptTimeoutException("no time left to connect", null);
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(host, port), (int) Math.min(connectTimeoutMillis, left));
            if (tls) {
                SSLSocket ssl = (SSLSocket) tlsSockets.createSocket(s, host, port, true);
                SSLParameters p = ssl.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the host
                ssl.setSSLParameters(p);
                s = ssl;
                // here, so a refused certificate is its own error and not one of the request
                ssl.setSoTimeout((int) Math.min(connectTimeoutMillis, Math.max(1, left)));
                ssl.startHandshake();
            }
        } catch (SocketTimeoutException e) {
            s.close();
            throw new IOException("connect to " + hostHeader + " timed out", e);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        Connection c = new Connection(s);
        open.add(c);
        return c;
    }

    /** Closes the sockets of attempts past their deadline, so a write stuck on a dead peer ends too. */
    private void watch() {
        while (!closed) {
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Connection c : open) {
                long d = c.deadline;
                if (d != 0 && now - d > 0) {
                    c.timedOut = true;
                    c.close();
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        watchdog.interrupt();
        for (Connection c; (c = idle.pollFirst()) != null; ) c.close();
    }

    /** A failure on a pooled connection before any byte of the response: the request may be sent again. */
    private static final class StaleConnectionException extends IOException {
        StaleConnectionException(IOException cause) {
            super(cause);
        }
    }

    private final class Connection {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final byte[] line = new byte[8192];
        long idleSince;
        /** When the attempt on this connection must end (nanoTime), 0 while idle. */
        volatile long deadline;
        volatile boolean timedOut;

        Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream(), BUFFER);
            this.out = socket.getOutputStream();
        }

        Response exchange(String method, String target, String headers, byte[] body, int offset, int length, long deadline)
                throws IOException {
            boolean keep = false;
            this.deadline = deadline;
            try {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) throw new AttemptTimeoutException("no time left for the request", null);
                socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
                String head = method + " " + target + " HTTP/1.1\r\nHost: " + hostHeader + "\r\n" + headers
                        + (length > 0 || "PUT".equals(method) || "POST".equals(method) ? "Content-Length: " + length + "\r\n" : "") + "\r\n";
                int first;
                try {
                    out.write(head.getBytes(StandardCharsets.ISO_8859_1));
                    if (length > 0) out.write(body, offset, length); // the caller's bytes, not a copy
                    out.flush();
                    first = in.read();
                } catch (IOException e) {
                    if (timedOut || e instanceof SocketTimeoutException) throw timeout(e);
                    throw new StaleConnectionException(e);
                }
                if (first < 0) throw new StaleConnectionException(new EOFException("the server closed the connection"));
                Response r;
                try {
                    r = readResponse(method, first);
                } catch (IOException e) {
                    if (timedOut || e instanceof SocketTimeoutException) throw timeout(e);
                    throw e;
                }
                keep = keepAlive;
                return r;
            } finally {
                this.deadline = 0;
                if (keep && !timedOut && !closed) {
                    idleSince = System.nanoTime();
                    idle.addFirst(this);
                } else {
                    close();
                }
            }
        }

        private AttemptTimeoutException timeout(IOException e) {
            return new AttemptTimeoutException("the attempt's time ran out", e);
        }

        private boolean keepAlive;

        private Response readResponse(String method, int first) throws IOException {
            int status;
            String statusLine = readLine(first);
            while (true) {
                if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12) throw new IOException("not an HTTP/1.x response: " + statusLine);
                status = parseStatus(statusLine);
                keepAlive = statusLine.charAt(7) == '1';
                if (status >= 200 || status == 101) break;
                while (!readLine(in.read()).isEmpty()) ; // 100 Continue and other interim replies: skip their headers
                statusLine = readLine(in.read());
            }
            long contentLength = -1;
            boolean chunked = false;
            for (String h; !(h = readLine(in.read())).isEmpty(); ) {
                int colon = h.indexOf(':');
                if (colon <= 0) continue;
                String name = h.substring(0, colon).strip(), value = h.substring(colon + 1).strip();
                if (name.equalsIgnoreCase("content-length")) {
                    try {
                        contentLength = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        throw new IOException("bad Content-Length: " + value);
                    }
                } else if (name.equalsIgnoreCase("transfer-encoding")) {
                    chunked = value.toLowerCase(java.util.Locale.ROOT).contains("chunked");
                } else if (name.equalsIgnoreCase("connection")) {
                    String v = value.toLowerCase(java.util.Locale.ROOT);
                    if (v.contains("close")) keepAlive = false;
                    else if (v.contains("keep-alive")) keepAlive = true;
                }
            }
            boolean success = status >= 200 && status < 300;
            if ("HEAD".equals(method) || status == 204 || status == 304) return new Response(status, new byte[0]);
            if (chunked) return new Response(status, readChunked(success ? Integer.MAX_VALUE - 16 : MAX_ERROR_BODY));
            if (contentLength >= 0) {
                if (contentLength > (success ? Integer.MAX_VALUE - 16 : MAX_ERROR_BODY)) {
                    keepAlive = false;
                    if (!success) return new Response(status, new byte[0]);
                    throw new IOException("response of " + contentLength + " bytes is too large");
                }
                byte[] b = in.readNBytes((int) contentLength); // exactly the object: no growing buffer
                if (b.length != contentLength) throw new EOFException("response ended after " + b.length + " of " + contentLength + " bytes");
                return new Response(status, b);
            }
            keepAlive = false; // the body ends with the connection
            byte[] b = in.readNBytes(success ? Integer.MAX_VALUE - 16 : MAX_ERROR_BODY);
            return new Response(status, b);
        }

        private byte[] readChunked(int limit) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            while (true) {
                String size = readLine(in.read());
                int semi = size.indexOf(';');
                long n;
                try {
                    n = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).strip(), 16);
                } catch (NumberFormatException e) {
                    throw new IOException("bad chunk size: " + size);
                }
                if (n == 0) break;
                if (n < 0 || b.size() + n > limit) throw new IOException("chunked response is too large");
                byte[] part = in.readNBytes((int) n);
                if (part.length != n) throw new EOFException("chunked response ended early");
                b.write(part);
                if (!readLine(in.read()).isEmpty()) throw new IOException("no CRLF after a chunk");
            }
            while (!readLine(in.read()).isEmpty()) ; // trailers
            return b.toByteArray();
        }

        private static int parseStatus(String line) throws IOException {
            int s = 0;
            for (int i = 9; i < 12; i++) {
                char c = line.charAt(i);
                if (c < '0' || c > '9') throw new IOException("bad status line: " + line);
                s = s * 10 + c - '0';
            }
            return s;
        }

        /** One header line without its CRLF, starting with byte {@code c} (already read). */
        private String readLine(int c) throws IOException {
            int n = 0;
            while (true) {
                if (c < 0) throw new EOFException("the server closed the connection in the response head");
                if (c == '\n') break;
                if (n == line.length) throw new IOException("response header line too long");
                line[n++] = (byte) c;
                c = in.read();
            }
            if (n > 0 && line[n - 1] == '\r') n--;
            return new String(line, 0, n, StandardCharsets.ISO_8859_1);
        }

        void close() {
            open.remove(this);
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
