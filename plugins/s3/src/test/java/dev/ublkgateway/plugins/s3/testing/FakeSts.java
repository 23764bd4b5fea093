package dev.ublkgateway.plugins.s3.testing;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for STS on 127.0.0.1: answers AssumeRoleWithWebIdentity and AssumeRole (query protocol,
 * form-encoded POST) with fixed temporary credentials valid for an hour, and keeps each request's form
 * parameters and Authorization header. Point the SDK at it with the system property aws.endpointUrlSts
 * (AWS_ENDPOINT_URL_STS) or a profile's endpoint_url.
 */
public final class FakeSts implements AutoCloseable {
    public static final String ACCESS_KEY = "ASIATEMPORARYKEY";
    public static final String SECRET_KEY = "temporary-secret";
    public static final String SESSION_TOKEN = "temporary-session-token";

    /** What one request asked for. */
    public record Call(Map<String, String> form, String authorization) {
        public String action() {
            return form.get("Action");
        }
    }

    private final HttpServer server;
    private final List<Call> calls = new CopyOnWriteArrayList<>();

    private FakeSts() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            Map<String, String> form = parse(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            calls.add(new Call(form, ex.getRequestHeaders().getFirst("Authorization")));
            String action = form.getOrDefault("Action", "");
            byte[] body;
            int status;
            if (action.equals("AssumeRoleWithWebIdentity") || action.equals("AssumeRole")) {
                status = 200;
                body = answer(action).getBytes(StandardCharsets.UTF_8);
            } else {
                status = 400;
                body = ("<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>not faked: " + action
                        + "</Message></Error><RequestId>1</RequestId></ErrorResponse>").getBytes(StandardCharsets.UTF_8);
            }
            ex.getResponseHeaders().add("Content-Type", "text/xml");
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
    }

    public static FakeSts start() throws IOException {
        return new FakeSts();
    }

    private static String answer(String action) {
        String expiry = Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS).toString();
        return "<" + action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" + action + "Result>"
                + "<Credentials><AccessKeyId>" + ACCESS_KEY + "</AccessKeyId><SecretAccessKey>" + SECRET_KEY + "</SecretAccessKey>"
                + "<SessionToken>" + SESSION_TOKEN + "</SessionToken><Expiration>" + expiry + "</Expiration></Credentials>"
                + "<AssumedRoleUser><AssumedRoleId>AROATEST:session</AssumedRoleId>"
                + "<Arn>arn:aws:sts::123456789012:assumed-role/test/session</Arn></AssumedRoleUser>"
                + "</" + action + "Result><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></" + action + "Response>";
    }

    private static Map<String, String> parse(String body) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String pair : body.split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String k = eq < 0 ? pair : pair.substring(0, eq), v = eq < 0 ? "" : pair.substring(eq + 1);
            m.put(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
        }
        return m;
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public List<Call> calls() {
        return List.copyOf(calls);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
