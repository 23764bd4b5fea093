package dev.ublkgateway.plugins.s3.testing;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for the SSO portal on 127.0.0.1: answers GetRoleCredentials (GET /federation/credentials)
 * with fixed temporary credentials and keeps each request's query and bearer token. Point the SDK at it
 * with AWS_ENDPOINT_URL_SSO.
 */
public final class FakeSsoPortal implements AutoCloseable {
    public static final String ACCESS_KEY = "ASIASSOROLEKEY";
    public static final String SESSION_TOKEN = "sso-role-session-token";

    /** One request: its query (role_name, account_id) and the x-amz-sso_bearer_token header. */
    public record Call(String query, String bearerToken) {
    }

    private final HttpServer server;
    private final List<Call> calls = new CopyOnWriteArrayList<>();

    private FakeSsoPortal() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/federation/credentials", ex -> {
            calls.add(new Call(ex.getRequestURI().getQuery(), ex.getRequestHeaders().getFirst("x-amz-sso_bearer_token")));
            long expiry = Instant.now().plus(1, ChronoUnit.HOURS).toEpochMilli();
            byte[] body = ("{\"roleCredentials\":{\"accessKeyId\":\"" + ACCESS_KEY + "\",\"secretAccessKey\":\"sso-secret\","
                    + "\"sessionToken\":\"" + SESSION_TOKEN + "\",\"expiration\":" + expiry + "}}").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
    }

    public static FakeSsoPortal start() throws IOException {
        return new FakeSsoPortal();
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
