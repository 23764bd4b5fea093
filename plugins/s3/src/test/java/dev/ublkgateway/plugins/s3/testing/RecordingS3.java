package dev.ublkgateway.plugins.s3.testing;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A stand-in for S3 on 127.0.0.1 that answers every request with 200 and an empty body, and keeps the
 * Authorization and x-amz-security-token headers of each request: enough for the bucket check at open,
 * and to see which credentials the client signed with.
 */
public final class RecordingS3 implements AutoCloseable {
    /** One request's signature: the key id and region of its credential scope, and its session token (or null). */
    public record Signed(String method, String path, String accessKeyId, String region, String securityToken) {
    }

    private static final Pattern CREDENTIAL = Pattern.compile("Credential=([^/]+)/[0-9]{8}/([^/]+)/s3/aws4_request");

    private final HttpServer server;
    private final List<Signed> requests = new CopyOnWriteArrayList<>();

    private RecordingS3() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            Matcher m = CREDENTIAL.matcher(auth == null ? "" : auth);
            boolean ok = m.find();
            requests.add(new Signed(ex.getRequestMethod(), ex.getRequestURI().getPath(), ok ? m.group(1) : null,
                    ok ? m.group(2) : null, ex.getRequestHeaders().getFirst("x-amz-security-token")));
            ex.getResponseHeaders().add("x-amz-request-id", "1");
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        server.start();
    }

    public static RecordingS3 start() throws IOException {
        return new RecordingS3();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public List<Signed> requests() {
        return List.copyOf(requests);
    }

    /** The last request, which must exist. */
    public Signed last() {
        if (requests.isEmpty()) throw new AssertionError("no request reached the S3 stand-in");
        return requests.getLast();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
