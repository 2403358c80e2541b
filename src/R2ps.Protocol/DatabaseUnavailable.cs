using System.Data.Common;

namespace R2ps.Protocol;

/// <summary>
/// When a failure is answered <see cref="ErrorCode.ServiceUnavailable"/> (503, retry later) because the database is down
/// or restarting, rather than the 500 of a fault: the one rule of the service core and of the BFF. It lives here, the
/// lowest project both reach, because the service core must not reference the store (its state lives behind ports) and
/// the rule needs nothing but the BCL's <see cref="DbException"/>.
/// </summary>
public static class DatabaseUnavailable
{
    /// <summary>The error message of such an answer.</summary>
    public const string Message = "The service's database is unavailable; retry later.";

    /// <summary>
    /// Whether <paramref name="exception"/> (bare or wrapped, as by EF Core's DbUpdateException) is a database failure its
    /// provider calls transient (<see cref="DbException.IsTransient"/>: Npgsql's refused connection, server shutting down
    /// or timeout; SQLite busy): the request can be retried as it is.
    /// </summary>
    public static bool Is(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is DbException { IsTransient: true })
                return true;
        }

        return false;
    }
}
