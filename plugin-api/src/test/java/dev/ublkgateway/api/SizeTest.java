package dev.ublkgateway.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SizeTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0|0",
        "4096|4096",
        "512B|512",
        "512KiB|524288",
        "512K|524288",
        "1MiB|1048576",
        "3M|3145728",
        "10GiB|10737418240",
        "2G|2147483648",
        "1TiB|1099511627776",
        "4T|4398046511104",
        "'1 GiB'|1073741824",
        "'  8 KiB '|8192",
        "007KiB|7168",
        "8388607TiB|9223370937343148032",
    })
    void parsesAcceptedForms(String text, long bytes) {
        assertEquals(bytes, Size.parse(text).bytes());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "10Gb|\"10Gb\" is not a size; use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB",
        "10GB|\"10GB\" is not a size; use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB",
        "10gib|\"10gib\" is not a size; use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB",
        "GiB|\"GiB\" is not a size; use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB",
        "''|\"\" is not a size; use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB",
        "ten|\"ten\" is not a size; use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB",
        "1e9|\"1e9\" is not a size; use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB",
        "0x1000|\"0x1000\" is not a size; use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB",
        "-1GiB|\"-1GiB\" is negative; use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB",
        "-5|\"-5\" is negative; use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB",
        "1.5GiB|\"1.5GiB\" is not a whole number; use an integer with a smaller unit, e.g. 1536MiB",
        "1.5|\"1.5\" is not a whole number; use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB",
        "8388608TiB|\"8388608TiB\" is too large; use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB, at most 8388607TiB",
        "99999999999999999999|\"99999999999999999999\" is too large; use an integer with B, KiB, MiB, GiB or TiB, e.g. 10GiB, at most 8388607TiB",
    })
    void rejectsWithOneLineMessage(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Size.parse(text));
        assertEquals(message, e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0|0 B",
        "100|100 B",
        "1023|1023 B",
        "1024|1 KiB",
        "4096|4 KiB",
        "4097|4.0 KiB",
        "524288|512 KiB",
        "1572864|1.5 MiB",
        "10737418240|10 GiB",
        "1610612736|1.5 GiB",
        "1099511627776|1 TiB",
        "1125899906842624|1024 TiB",
        "-2048|-2 KiB",
    })
    void formatsForHumans(long bytes, String text) {
        assertEquals(text, Size.format(bytes));
    }

    @Test
    void toStringFormatsAndNegativeIsRejected() {
        assertEquals("10 GiB", Size.parse("10GiB").toString());
        assertThrows(IllegalArgumentException.class, () -> Size.of(-1));
    }
}
