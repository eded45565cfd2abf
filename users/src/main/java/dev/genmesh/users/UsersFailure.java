package dev.genmesh.users;

/** A refusal of the user database that the caller caused: the edge and the CLI turn its kind into an answer. */
public final class UsersFailure extends RuntimeException {
  /** What went wrong, with the HTTP status the admin API answers. */
  public enum Kind {
    NOT_FOUND(404), CONFLICT(409), INVALID(400);

    private final int httpStatus;

    Kind(int httpStatus) {
      this.httpStatus = httpStatus;
    }

    public int httpStatus() {
      return httpStatus;
    }
  }

  private final Kind kind;
  private final String field;

  public UsersFailure(Kind kind, String field, String message) {
    super(message, null, false, false);
    this.kind = kind;
    this.field = field;
  }

  public Kind kind() {
    return kind;
  }

  /** The input field at fault, or null. */
  public String field() {
    return field;
  }
}
