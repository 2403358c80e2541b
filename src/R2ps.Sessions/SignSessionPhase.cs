namespace R2ps.Sessions;

/// <summary>Where a stored sign session is in its life (an ended session has no row).</summary>
public enum SignSessionPhase
{
    /// <summary>Evaluated, waiting for the finalize.</summary>
    PendingLogin,

    /// <summary>Finalized; its sealed session key serves user-type requests.</summary>
    Active,
}
