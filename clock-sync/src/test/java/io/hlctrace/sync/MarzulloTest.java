package io.hlctrace.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hlctrace.sync.Marzullo.Interval;
import io.hlctrace.sync.Marzullo.Result;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class MarzulloTest {
    private static Interval iv(String s, long lo, long hi) { return new Interval(s, lo, hi); }

    @Test
    void threeOverlappingSourcesAgreeOnTheCommonPart() {
        // the textbook example: [8,12] [11,13] [10,12] -> [11,12] by all three
        Result r = Marzullo.intersect(List.of(iv("a", 8, 12), iv("b", 11, 13), iv("c", 10, 12)));
        assertEquals(11, r.lo());
        assertEquals(12, r.hi());
        assertEquals(3, r.agreeing());
        assertTrue(r.majority());
        assertEquals(List.of("a", "b", "c"), r.members());
        assertEquals(0, r.ties());
    }

    @Test
    void aFalsetickerIsOutvoted() {
        // [8,12] [11,13] [14,15] -> [11,12] by two of three; c is the falseticker
        Result r = Marzullo.intersect(List.of(iv("a", 8, 12), iv("b", 11, 13), iv("c", 14, 15)));
        assertEquals(11, r.lo());
        assertEquals(12, r.hi());
        assertEquals(2, r.agreeing());
        assertEquals(3, r.total());
        assertTrue(r.majority());
        assertEquals(List.of("a", "b"), r.members());
    }

    @Test
    void tieBetweenTwoDisjointIntervalsReturnsTheFirstAndCountsTheOther() {
        // [8,9] [8,12] [10,12]: both [8,9] and [10,12] are agreed by two sources
        Result r = Marzullo.intersect(List.of(iv("a", 8, 9), iv("b", 8, 12), iv("c", 10, 12)));
        assertEquals(8, r.lo());
        assertEquals(9, r.hi());
        assertEquals(2, r.agreeing());
        assertEquals(1, r.ties());
        assertEquals(List.of("a", "b"), r.members());
    }

    @Test
    void touchingIntervalsAgreeOnTheSharedPoint() {
        Result r = Marzullo.intersect(List.of(iv("a", 8, 12), iv("b", 12, 14)));
        assertEquals(12, r.lo());
        assertEquals(12, r.hi());
        assertEquals(2, r.agreeing());
        assertTrue(r.majority());
    }

    @Test
    void disjointSourcesHaveNoMajority() {
        Result r = Marzullo.intersect(List.of(iv("a", 0, 1), iv("b", 2, 3), iv("c", 4, 5), iv("d", 6, 7)));
        assertEquals(1, r.agreeing());
        assertEquals(3, r.ties());
        assertFalse(r.majority());
        assertEquals(0, r.lo());
        assertEquals(1, r.hi());
    }

    @Test
    void halfOfAnEvenNumberIsNoMajority() {
        Result r = Marzullo.intersect(List.of(iv("a", 0, 2), iv("b", 1, 3), iv("c", 5, 7), iv("d", 6, 8)));
        assertEquals(2, r.agreeing());
        assertEquals(1, r.ties());
        assertFalse(r.majority(), "2 of 4 is not a majority");
    }

    @Test
    void aSingleSourceAgreesWithItself() {
        Result r = Marzullo.intersect(List.of(iv("self", -250, 250)));
        assertEquals(-250, r.lo());
        assertEquals(250, r.hi());
        assertEquals(1, r.agreeing());
        assertTrue(r.majority());
        assertEquals(0, r.midpoint());
    }

    @Test
    void nestedIntervalsAgreeOnTheInnermost() {
        Result r = Marzullo.intersect(List.of(iv("a", -100, 100), iv("b", -10, 30), iv("c", 0, 5)));
        assertEquals(0, r.lo());
        assertEquals(5, r.hi());
        assertEquals(3, r.agreeing());
    }

    @Test
    void emptyInputAndInvertedIntervalsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Marzullo.intersect(List.of()));
        assertThrows(IllegalArgumentException.class, () -> iv("x", 5, 4));
    }

    @Property(tries = 300)
    void agreesWithBruteForce(@ForAll @Size(min = 1, max = 7) List<@IntRange(min = -20, max = 20) Integer> starts,
                              @ForAll @Size(min = 7, max = 7) List<@IntRange(min = 0, max = 15) Integer> widths) {
        List<Interval> in = new ArrayList<>();
        for (int i = 0; i < starts.size(); i++) in.add(iv("s" + i, starts.get(i), starts.get(i) + widths.get(i)));
        Result r = Marzullo.intersect(in);
        // brute force: the greatest depth at any integer point, and the first point reaching it
        int best = 0;
        long firstBest = 0;
        for (long x = -20; x <= 35; x++) {
            int depth = 0;
            for (Interval v : in) if (v.lo() <= x && x <= v.hi()) depth++;
            if (depth > best) {
                best = depth;
                firstBest = x;
            }
        }
        assertEquals(best, r.agreeing());
        assertEquals(firstBest, r.lo());
        for (long x = r.lo(); x <= r.hi(); x++) {
            int depth = 0;
            for (Interval v : in) if (v.lo() <= x && x <= v.hi()) depth++;
            assertEquals(best, depth, "every point of the result is covered by all its sources");
        }
        assertEquals(best, r.members().size());
    }
}
