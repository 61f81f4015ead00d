package io.hlctrace.hlc;

/** How two events relate under happened-before. */
public enum Causality {
    BEFORE, AFTER, CONCURRENT, EQUAL
}
