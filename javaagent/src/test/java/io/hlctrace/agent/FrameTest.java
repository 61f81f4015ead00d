package io.hlctrace.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The header's "no timestamp" form (fail-stop with failMode refuse). */
class FrameTest {
    @Test
    void aHeaderWithoutTimestampIsValidAndRecognisedAsAFrame() {
        byte[] h = new byte[Frame.HEADER_SIZE];
        Frame.writeHeader(h, 0, 0, 7, 100);
        assertEquals(Frame.FLAG_NO_HLC, h[5], "flags byte says no timestamp");
        assertNull(Frame.validate(h, 0));
        assertEquals(Frame.SIGNATURE.length, Frame.signaturePrefix(h, 0, h.length), "a connection may start with such a header");
        assertEquals(0, Frame.hlc(h, 0));
        assertEquals(7, Frame.msgId(h, 0));

        Frame.writeHeader(h, 0, 0x6932a5e61f3a0004L, 8, 100);
        assertEquals(0, h[5]);
        assertNull(Frame.validate(h, 0));
    }

    @Test
    void theFlagAndTheHlcFieldMustAgree() {
        byte[] h = new byte[Frame.HEADER_SIZE];
        Frame.writeHeader(h, 0, 0x6932a5e61f3a0004L, 1, 10);
        h[5] = Frame.FLAG_NO_HLC;
        assertNotNull(Frame.validate(h, 0), "NO_HLC with an HLC");
        Frame.writeHeader(h, 0, 0, 1, 10);
        h[5] = 0;
        assertNotNull(Frame.validate(h, 0), "HLC 0 without NO_HLC");
        h[5] = 2;
        assertNotNull(Frame.validate(h, 0), "unknown flag");
        assertEquals(-1, Frame.signaturePrefix(h, 0, h.length), "unknown flags are not a signature");
    }
}
