package dev.genmesh.registry;

import java.util.Comparator;

/** Orders versions by their dot-separated parts, numbers as numbers: 1.9.0 before 1.10.0. */
final class VersionOrder implements Comparator<String> {
  static final VersionOrder INSTANCE = new VersionOrder();

  @Override
  public int compare(String a, String b) {
    String[] left = a.split("[.\\-_]");
    String[] right = b.split("[.\\-_]");
    for (int i = 0; i < Math.min(left.length, right.length); i++) {
      int order = part(left[i], right[i]);
      if (order != 0) {
        return order;
      }
    }
    return left.length != right.length ? Integer.compare(left.length, right.length) : a.compareTo(b);
  }

  private static int part(String a, String b) {
    boolean numbers = a.matches("\\d{1,18}") && b.matches("\\d{1,18}");
    return numbers ? Long.compare(Long.parseLong(a), Long.parseLong(b)) : a.compareTo(b);
  }
}
