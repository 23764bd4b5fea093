package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.metrics.MetricsAddress;
import dev.ublkgateway.core.runtime.Gateway;
import dev.ublkgateway.core.runtime.StateStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** `recover` serves metrics as `up` does: --metrics-listen, else the file's metrics-listen:. */
class MetricsListenTest {
    @TempDir
    Path dir;

    static GatewayConfig file(String metricsListen) {
        return new GatewayConfig(Path.of("g.yaml"), List.of(), metricsListen, Optional.empty());
    }

    @Test
    void theOptionWinsOverTheFile() {
        MetricsAddress option = MetricsAddress.parse("127.0.0.1:9811");
        assertEquals(option, MetricsListen.choose(option, file("127.0.0.1:9810")));
        assertEquals(MetricsAddress.parse("127.0.0.1:9810"), MetricsListen.choose(null, file("127.0.0.1:9810")));
        assertNull(MetricsListen.choose(null, file(null)));
    }

    @Test
    void recoverTakesTheOption() {
        CommandLine.ParseResult r = Main.commandLine().parseArgs("recover", "vol0", "--metrics-listen", "127.0.0.1:9811");
        RecoverCommand c = (RecoverCommand) r.subcommand().commandSpec().userObject();
        assertEquals(MetricsAddress.parse("127.0.0.1:9811"), c.metricsListen.option);
    }

    @Test
    void aRecoveryServesTheFilesAddress() throws Exception {
        Gateway gateway = new Gateway(new StateStore(dir.resolve("run")), null);
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        try {
            MetricsListen.serveForRecovery(gateway, null, file("127.0.0.1:" + port));
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
        } finally {
            gateway.stopAll();
        }
    }

    @Test
    void aTakenPortOfTheFileDoesNotStopTheRecoveryButOneOfTheOptionDoes() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Gateway gateway = new Gateway(new StateStore(dir.resolve("run")), null);
            String address = "127.0.0.1:" + taken.getLocalPort();
            // another device of the same file, recovered first, serves there
            assertDoesNotThrow(() -> MetricsListen.serveForRecovery(gateway, null, file(address)));
            IOException e = assertThrows(IOException.class,
                    () -> MetricsListen.serveForRecovery(gateway, MetricsAddress.parse(address), file(null)));
            assertTrue(e.getMessage().startsWith("cannot serve metrics on " + address), e.getMessage());
            gateway.stopAll();
        }
    }
}
