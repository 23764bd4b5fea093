package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.core.sys.Sockets;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Who a client is.
 *
 * @param name  for log lines: {@code 192.0.2.7:51234}, {@code [2001:db8::7]:51234}, {@code unix pid 812 uid 1000}
 * @param group the clients that share handshake slots when the server is full: one IPv4 address, one
 *              IPv6 /64 (a single host usually has a whole one), or one user on a unix socket
 */
record Peer(String name, String group) {
    private static final Peer UNKNOWN = new Peer("unknown peer", "unknown");

    static Peer of(int fd, boolean unix) {
        return unix ? unix(Sockets.peerCredentials(fd)) : tcp(fd);
    }

    private static Peer unix(int[] cred) {
        if (cred == null) return new Peer("unix client", "unix");
        return new Peer("unix pid " + cred[0] + " uid " + cred[1], "uid " + cred[1]);
    }

    private static Peer tcp(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = Sockets.peerAddress(fd, a);
            if (sa == null || sa.byteSize() < 8) return UNKNOWN;
            int family = sa.get(JAVA_SHORT, 0);
            int port = Short.toUnsignedInt(Short.reverseBytes(sa.get(JAVA_SHORT, 2)));
            byte[] ip;
            if (family == Sockets.AF_INET) ip = sa.asSlice(4, 4).toArray(JAVA_BYTE);
            else if (family == Sockets.AF_INET6 && sa.byteSize() >= 24) ip = sa.asSlice(8, 16).toArray(JAVA_BYTE);
            else return UNKNOWN;
            InetAddress addr = InetAddress.getByAddress(ip); // numeric: no name lookup; maps ::ffff:a.b.c.d to IPv4
            String host = addr.getHostAddress();
            if (addr instanceof Inet4Address) return new Peer(host + ":" + port, host);
            byte[] prefix = new byte[16];
            System.arraycopy(ip, 0, prefix, 0, 8);
            return new Peer("[" + host + "]:" + port, InetAddress.getByAddress(prefix).getHostAddress() + "/64");
        } catch (UnknownHostException e) {
            return UNKNOWN; // not reached: the address has a valid length
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
