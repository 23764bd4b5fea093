package dev.ublkgateway.core.log;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.*;

class LogFormatTest {
    private static final Logger LOG = Logger.getLogger("dev.ublkgateway.test.Gateway");
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    @AfterEach
    void restore() {
        LogSetup.apply(LogLevel.INFO, LogFormat.TEXT);
    }

    private List<String> lines() {
        String s = out.toString(StandardCharsets.UTF_8);
        return s.isEmpty() ? List.of() : List.of(s.split("\n"));
    }

    private List<JsonNode> json() throws Exception {
        List<JsonNode> nodes = new ArrayList<>();
        for (String line : lines()) nodes.add(new ObjectMapper().readTree(line));
        return nodes;
    }

    @Test
    void jsonLinesCarryTimeLevelLoggerMessageAndDevice() throws Exception {
        LogSetup.apply(LogLevel.INFO, LogFormat.JSON, out);
        LOG.info("data0: created as /dev/ublkb0 (file, 1 queue)");
        LOG.warning("device disk.1: script s.js not reloaded: \"quoted\"\nsecond line");
        LOG.info("nbd connection 3 from unix: closed");
        List<JsonNode> nodes = json();
        assertEquals(3, nodes.size(), out.toString());
        JsonNode first = nodes.getFirst();
        assertEquals("info", first.get("level").asText());
        assertEquals("dev.ublkgateway.test.Gateway", first.get("logger").asText());
        assertEquals("data0: created as /dev/ublkb0 (file, 1 queue)", first.get("message").asText());
        assertEquals("data0", first.get("device").asText());
        java.time.Instant.parse(first.get("time").asText());
        assertEquals("warn", nodes.get(1).get("level").asText());
        assertEquals("disk.1", nodes.get(1).get("device").asText());
        assertTrue(nodes.get(1).get("message").asText().endsWith("\"quoted\"\nsecond line"));
        assertFalse(nodes.get(2).has("device"), "a line about no device has no device field");
    }

    @Test
    void levelFiltersLines() throws Exception {
        LogSetup.apply(LogLevel.WARN, LogFormat.JSON, out);
        LOG.info("not shown");
        LOG.fine("not shown either");
        LOG.severe("data0: queue failed");
        List<JsonNode> nodes = json();
        assertEquals(1, nodes.size(), out.toString());
        assertEquals("error", nodes.getFirst().get("level").asText());
    }

    @Test
    void debugShowsFineLinesAndStackTraces() throws Exception {
        LogSetup.apply(LogLevel.DEBUG, LogFormat.JSON, out);
        LOG.log(Level.FINE, "closing", new IllegalStateException("gone"));
        JsonNode n = json().getFirst();
        assertEquals("debug", n.get("level").asText());
        assertTrue(n.get("error").asText().contains("at dev.ublkgateway.core.log.LogFormatTest"), n.toString());
    }

    @Test
    void debugIsForTheGatewayNotTheJdk() throws Exception {
        LogSetup.apply(LogLevel.DEBUG, LogFormat.JSON, out);
        Logger.getLogger("java.lang.Runtime").fine("Runtime.exit() called");
        Logger.getLogger("java.lang.Runtime").info("shown");
        assertEquals(List.of("shown"), json().stream().map(n -> n.get("message").asText()).toList());
    }

    @Test
    void errorsBelowDebugAreOneLineWithoutStackTrace() {
        LogSetup.apply(LogLevel.INFO, LogFormat.TEXT, out);
        LOG.log(Level.SEVERE, "queue 0 stopped", new IllegalStateException("ring\nbroken"));
        List<String> lines = lines();
        assertEquals(1, lines.size(), out.toString());
        assertTrue(lines.getFirst().matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ERROR queue 0 stopped "
                + "\\(IllegalStateException: ring\\\\nbroken\\)"), lines.getFirst());
    }

    @Test
    void everyLevelHasOneTextName() {
        LogSetup.apply(LogLevel.DEBUG, LogFormat.TEXT, out);
        LOG.severe("a");
        LOG.warning("b");
        LOG.info("c");
        LOG.fine("d");
        LOG.finest("not shown: below debug");
        List<String> levels = lines().stream().map(l -> l.split(" ")[2]).toList();
        assertEquals(List.of("ERROR", "WARN", "INFO", "DEBUG"), levels);
    }
}
