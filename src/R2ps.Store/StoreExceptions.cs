namespace R2ps.Store;

/// <summary>A store operation conflicts with what is already stored.</summary>
public class StoreConflictException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StoreConflictException() : base("The store already holds a conflicting entry.") { }

    /// <summary>Creates the exception with a message.</summary>
    public StoreConflictException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public StoreConflictException(string message, Exception innerException) : base(message, innerException) { }
}
