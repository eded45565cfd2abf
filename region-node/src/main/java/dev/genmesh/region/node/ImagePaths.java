package dev.genmesh.region.node;

/** The public path of a finished image, as the edge serves it and the events and views name it. */
public final class ImagePaths {
  private ImagePaths() {}

  public static String publicPath(String id, int index) {
    return "/v1/images/" + id + "/" + index + ".png";
  }
}
