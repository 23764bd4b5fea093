package dev.ublkgateway.core.frontend.nbd;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

import static dev.ublkgateway.core.frontend.nbd.Handshake.BE_INT;
import static dev.ublkgateway.core.frontend.nbd.Handshake.BE_LONG;
import static dev.ublkgateway.core.frontend.nbd.Handshake.BE_SHORT;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * The transmission phase's messages (doc/proto.md of the NBD project): big-endian and packed, so a
 * request read from a stream may sit at any offset. Each handle takes the segment and the message's
 * byte offset in it.
 */
final class Wire {
    /** A request header; a WRITE's payload follows it. */
    static final StructLayout REQUEST = headerThen(BE_LONG.withName("offset"), BE_INT.withName("length"));
    static final VarHandle REQ_MAGIC = field(REQUEST, "magic"), REQ_FLAGS = field(REQUEST, "flags"),
            REQ_TYPE = field(REQUEST, "type"), REQ_COOKIE = field(REQUEST, "cookie"),
            REQ_OFFSET = field(REQUEST, "offset"), REQ_LENGTH = field(REQUEST, "length");

    /** A simple reply; a READ's data follows it. */
    static final StructLayout SIMPLE_REPLY = MemoryLayout.structLayout(
            BE_INT.withName("magic"),
            BE_INT.withName("error"),
            BE_LONG.withName("cookie"));
    static final VarHandle SIMPLE_MAGIC = field(SIMPLE_REPLY, "magic"), SIMPLE_ERROR = field(SIMPLE_REPLY, "error"),
            SIMPLE_COOKIE = field(SIMPLE_REPLY, "cookie");

    /** A structured reply chunk's header; {@code length} bytes of payload follow. */
    static final StructLayout CHUNK = headerThen(BE_INT.withName("length"));
    static final VarHandle CHUNK_MAGIC = field(CHUNK, "magic"), CHUNK_FLAGS = field(CHUNK, "flags"),
            CHUNK_TYPE = field(CHUNK, "type"), CHUNK_COOKIE = field(CHUNK, "cookie"),
            CHUNK_LENGTH = field(CHUNK, "length");

    /** NBD_REPLY_TYPE_ERROR: the header, the error and an empty message. */
    static final StructLayout ERROR_CHUNK = MemoryLayout.structLayout(
            CHUNK.withName("chunk"),
            BE_INT.withName("error"),
            BE_SHORT.withName("message_length"));
    static final VarHandle ERROR_ERROR = field(ERROR_CHUNK, "error"),
            ERROR_MESSAGE_LENGTH = field(ERROR_CHUNK, "message_length");

    /** NBD_REPLY_TYPE_OFFSET_DATA: the header and the data's offset; the data follows. */
    static final StructLayout OFFSET_DATA_CHUNK = MemoryLayout.structLayout(
            CHUNK.withName("chunk"),
            BE_LONG.withName("offset"));
    static final VarHandle OFFSET_DATA_OFFSET = field(OFFSET_DATA_CHUNK, "offset");

    /** NBD_REPLY_TYPE_BLOCK_STATUS: the header and the context id; the descriptors follow. */
    static final StructLayout BLOCK_STATUS_CHUNK = MemoryLayout.structLayout(
            CHUNK.withName("chunk"),
            BE_INT.withName("context_id"));
    static final VarHandle BLOCK_STATUS_CONTEXT = field(BLOCK_STATUS_CHUNK, "context_id");

    /** Room for the largest reply header of one request. */
    static final int REPLY_HEADER_SLOT = 32;

    private Wire() {}

    /** A request and a reply chunk both start with magic, flags, type and cookie. */
    private static StructLayout headerThen(MemoryLayout... rest) {
        MemoryLayout[] fields = new MemoryLayout[4 + rest.length];
        fields[0] = BE_INT.withName("magic");
        fields[1] = BE_SHORT.withName("flags");
        fields[2] = BE_SHORT.withName("type");
        fields[3] = BE_LONG.withName("cookie");
        System.arraycopy(rest, 0, fields, 4, rest.length);
        return MemoryLayout.structLayout(fields);
    }

    private static VarHandle field(StructLayout struct, String name) {
        return struct.varHandle(groupElement(name));
    }
}
