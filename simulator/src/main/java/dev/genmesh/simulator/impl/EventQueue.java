package dev.genmesh.simulator.impl;

import java.util.Arrays;

/**
 * The pending events of the model (completions, workers becoming ready, policy ticks, samples):
 * a binary heap on time, ties in insertion order so that a run is reproducible. Arrivals are not
 * here: the model draws the next one as it goes.
 */
final class EventQueue {
  static final int DONE = 0;
  static final int READY = 1;
  static final int TICK = 2;
  static final int SAMPLE = 3;

  private double[] times = new double[256];
  private long[] order = new long[256];
  private int[] types = new int[256];
  private SimulatedWorker[] workers = new SimulatedWorker[256];
  private int size;
  private long inserted;

  void push(double time, int type, SimulatedWorker worker) {
    if (size == times.length) {
      times = Arrays.copyOf(times, size * 2);
      order = Arrays.copyOf(order, size * 2);
      types = Arrays.copyOf(types, size * 2);
      workers = Arrays.copyOf(workers, size * 2);
    }
    int i = size++;
    set(i, time, inserted++, type, worker);
    while (i > 0) {
      int parent = (i - 1) / 2;
      if (!less(i, parent)) {
        break;
      }
      swap(i, parent);
      i = parent;
    }
  }

  double peekTime() {
    return size == 0 ? Double.POSITIVE_INFINITY : times[0];
  }

  int peekType() {
    return types[0];
  }

  /** Removes the earliest event; answers its worker (null for ticks and samples). */
  SimulatedWorker pop() {
    SimulatedWorker worker = workers[0];
    size--;
    set(0, times[size], order[size], types[size], workers[size]);
    workers[size] = null;
    int i = 0;
    while (true) {
      int left = 2 * i + 1;
      int right = left + 1;
      int smallest = i;
      if (left < size && less(left, smallest)) {
        smallest = left;
      }
      if (right < size && less(right, smallest)) {
        smallest = right;
      }
      if (smallest == i) {
        return worker;
      }
      swap(i, smallest);
      i = smallest;
    }
  }

  private boolean less(int a, int b) {
    return times[a] < times[b] || (times[a] == times[b] && order[a] < order[b]);
  }

  private void set(int i, double time, long seq, int type, SimulatedWorker worker) {
    times[i] = time;
    order[i] = seq;
    types[i] = type;
    workers[i] = worker;
  }

  private void swap(int a, int b) {
    double t = times[a];
    long o = order[a];
    int ty = types[a];
    SimulatedWorker w = workers[a];
    set(a, times[b], order[b], types[b], workers[b]);
    set(b, t, o, ty, w);
  }
}
