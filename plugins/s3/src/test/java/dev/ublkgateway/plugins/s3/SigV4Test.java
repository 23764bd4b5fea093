package dev.ublkgateway.plugins.s3;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The signer against the published example of AWS (S3, GET object, payload in a single chunk). */
class SigV4Test {
    @Test
    void getObjectExampleOfTheS3Documentation() {
        TreeMap<String, String> headers = new TreeMap<>();
        headers.put("host", "examplebucket.s3.amazonaws.com");
        headers.put("range", "bytes=0-9");
        headers.put("x-amz-content-sha256", SigV4.EMPTY_SHA256);
        headers.put("x-amz-date", "20130524T000000Z");
        String auth = new SigV4("us-east-1", "s3").authorization("GET", "/test.txt", "", headers, SigV4.EMPTY_SHA256,
                "20130524T000000Z", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        assertEquals("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41", auth);
    }

    @Test
    void emptyPayloadHashIsTheSha256OfNoBytes() {
        assertEquals(SigV4.EMPTY_SHA256, SigV4.sha256Hex(new byte[0], 0, 0));
        byte[] abc = "xabcx".getBytes(StandardCharsets.US_ASCII);
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", SigV4.sha256Hex(abc, 1, 3));
    }

    @Test
    void keysAreEncodedOnceWithSlashesKept() {
        assertEquals("vol/chunks/0000-00a_~.x", SigV4.encodePath("vol/chunks/0000-00a_~.x"));
        assertEquals("a%20b/c%2Bd%3D%25/%C3%A4%2A", SigV4.encodePath("a b/c+d=%/ä*"));
    }
}
