package io.hlctrace.demo.plot;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small, dependency-free SVG line/step chart: axes with round tick values, a legend, a title and
 * axis labels. Enough for the demo's plots, which people open in a browser.
 */
public final class SvgChart {
    /** One line: a name for the legend, a colour, and points in data coordinates. */
    public record Series(String name, String color, double[] xs, double[] ys, boolean dashed) {
        public Series(String name, String color, double[] xs, double[] ys) { this(name, color, xs, ys, false); }
    }

    public static final String[] PALETTE = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final List<Series> series = new ArrayList<>();
    private int width = 900;
    private int height = 420;

    public SvgChart(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    public SvgChart add(Series s) {
        if (s.xs().length != s.ys().length) throw new IllegalArgumentException("series " + s.name() + ": " + s.xs().length + " x values but " + s.ys().length + " y values");
        series.add(s);
        return this;
    }

    public SvgChart size(int w, int h) {
        this.width = w;
        this.height = h;
        return this;
    }

    public String render() {
        double minX = Double.POSITIVE_INFINITY, maxX = Double.NEGATIVE_INFINITY, minY = 0, maxY = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (double x : s.xs()) { minX = Math.min(minX, x); maxX = Math.max(maxX, x); }
            for (double y : s.ys()) { minY = Math.min(minY, y); maxY = Math.max(maxY, y); }
        }
        if (!Double.isFinite(minX)) { minX = 0; maxX = 1; }
        if (!Double.isFinite(maxY)) maxY = 1;
        if (maxX <= minX) maxX = minX + 1;
        if (maxY <= minY) maxY = minY + 1;
        double yStep = niceStep((maxY - minY) / 6);
        double xStep = niceStep((maxX - minX) / 8);
        double y0 = Math.floor(minY / yStep) * yStep, y1 = Math.ceil(maxY / yStep) * yStep;
        double x0 = minX, x1 = maxX;

        int left = 70, right = 170, top = 40, bottom = 50;
        int pw = width - left - right, ph = height - top - bottom;
        StringBuilder sb = new StringBuilder(16_384);
        sb.append(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n",
                width, height, width, height));
        sb.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", width, height));
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">%s</text>%n", left, esc(title)));
        // grid and y ticks
        for (double y = y0; y <= y1 + yStep / 2; y += yStep) {
            double py = top + ph - (y - y0) / (y1 - y0) * ph;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>%n", left, py, left + pw, py));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", left - 6, py + 4, fmt(y)));
        }
        for (double x = Math.ceil(x0 / xStep) * xStep; x <= x1 + 1e-9; x += xStep) {
            double px = left + (x - x0) / (x1 - x0) * pw;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e5e5e5\"/>%n", px, top, px, top + ph));
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", px, top + ph + 16, fmt(x)));
        }
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>%n", left, top, pw, ph));
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", left + pw / 2, height - 10, esc(xLabel)));
        sb.append(String.format(Locale.ROOT, "<text transform=\"translate(16,%d) rotate(-90)\" text-anchor=\"middle\">%s</text>%n", top + ph / 2, esc(yLabel)));
        int legendY = top + 10;
        for (Series s : series) {
            sb.append("<polyline fill=\"none\" stroke-width=\"1.6\" stroke=\"").append(s.color()).append('"');
            if (s.dashed()) sb.append(" stroke-dasharray=\"6,4\"");
            sb.append(" points=\"");
            for (int i = 0; i < s.xs().length; i++) {
                double px = left + (s.xs()[i] - x0) / (x1 - x0) * pw;
                double py = top + ph - (s.ys()[i] - y0) / (y1 - y0) * ph;
                sb.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
            }
            sb.append("\"/>\n");
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"%s/>%n",
                    left + pw + 12, legendY, left + pw + 36, legendY, s.color(), s.dashed() ? " stroke-dasharray=\"6,4\"" : ""));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", left + pw + 42, legendY + 4, esc(s.name())));
            legendY += 20;
        }
        sb.append("</svg>\n");
        return sb.toString();
    }

    static double niceStep(double raw) {
        if (raw <= 0 || !Double.isFinite(raw)) return 1;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / mag;
        double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
        return nice * mag;
    }

    private static String fmt(double v) {
        if (Math.abs(v - Math.rint(v)) < 1e-9) return Long.toString(Math.round(v));
        return String.format(Locale.ROOT, "%.2f", v).replaceAll("0+$", "");
    }

    public static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
