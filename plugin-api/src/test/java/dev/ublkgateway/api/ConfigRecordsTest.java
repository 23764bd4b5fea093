package dev.ublkgateway.api;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ConfigRecordsTest {

    record Remote(
            @ConfigOption(required = true, description = "host") String host,
            @ConfigOption(secret = true, description = "token") String token,
            Integer port) {
        @Override
        public String toString() {
            return ConfigRecords.redactedToString(this);
        }
    }

    record Plain(String name, int size) {}

    @Test
    void hidesSetSecretsAndShowsTheRest() {
        assertEquals("Remote[host=nas, token=***, port=10809]", new Remote("nas", "s3cr3t", 10809).toString());
        assertEquals("Remote[host=nas, token=null, port=null]", new Remote("nas", null, null).toString());
    }

    @Test
    void matchesTheGeneratedFormWithoutSecrets() {
        Plain p = new Plain("a", 4);
        assertEquals(p.toString(), ConfigRecords.redactedToString(p));
    }
}
