using R2ps.Crypto.Hpke;

namespace R2ps.Crypto.Tests.Hpke;

/// <summary>
/// RFC 9180 test vectors for DHKEM(P-256, HKDF-SHA256) / HKDF-SHA256, written out so the repository stands alone.
/// Sources: RFC 9180 Appendix A.3 and the official test-vectors.json of cfrg/draft-irtf-cfrg-hpke (commit 5f503c5),
/// which the shared vectors/hpke_rfc9180_p256_hkdfsha256_modes0_2.json holds unchanged. The encryptions listed are those
/// at sequence numbers 0, 1, 2, 4, 255 and 256 (the ones the RFC prints); the JSON check covers all 257.
/// </summary>
internal static class HpkeRfcVectors
{
    /// <summary>Every encryption of the vectors seals this plaintext: ASCII "Beauty is truth, truth beauty".</summary>
    private const string BeautyIsTruth = "4265617574792069732074727574682c20747275746820626561757479";

    // RFC 9180 App. A.3.1: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, mode_base (every printed value).
    internal static readonly HpkeTestVector A31Base = new(
        Name: "DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, mode 0 (base)",
        Mode: HpkeMode.Base,
        Aead: HpkeAead.Aes128Gcm,
        Info: "4f6465206f6e2061204772656369616e2055726e",
        IkmR: "668b37171f1072f3cf12ea8a236a45df23fc13b82af3609ad1e354f6ef817550",
        IkmS: null,
        IkmE: "4270e54ffd08d79d5928020af4686d8f6b7d35dbe470265f1f5aa22816ce860e",
        SkRm: "f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2",
        SkSm: null,
        SkEm: "4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb",
        PkRm: "04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a826a779b4cf969b8a0e539c7f62fb3d3"
            + "0ad6aa8f80e30f1d128aafd68a2ce72ea0",
        PkSm: null,
        PkEm: "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900"
            + "be863c403ce65c9bfcb9382657222d18c4",
        Enc: "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900"
            + "be863c403ce65c9bfcb9382657222d18c4",
        SharedSecret: "c0d26aeab536609a572b07695d933b589dcf363ff9d93c93adea537aeabb8cb8",
        KeyScheduleContext: "00b88d4e6d91759e65e87c470e8b9141113e9ad5f0c8ceefc1e088c82e6980500798e486f9c9c09c9b5c753ac72d6005"
            + "de254c607d1b534ed11d493ae1c1d9ac85",
        Secret: "2eb7b6bf138f6b5aff857414a058a3f1750054a9ba1f72c2cf0684a6f20b10e1",
        Key: "868c066ef58aae6dc589b6cfdd18f97e",
        BaseNonce: "4e0bc5018beba4bf004cca59",
        ExporterSecret: "14ad94af484a7ad3ef40e9f3be99ecc6fa9036df9d4920548424df127ee0d99f",
        Encryptions:
        [
            new(0, BeautyIsTruth, "436f756e742d30", "4e0bc5018beba4bf004cca59",
                "5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f9076ac232e3ab2523f39513434"),
            new(1, BeautyIsTruth, "436f756e742d31", "4e0bc5018beba4bf004cca58",
                "fa6f037b47fc21826b610172ca9637e82d6e5801eb31cbd3748271affd4ecb06646e0329cbdf3c3cd655b28e82"),
            new(2, BeautyIsTruth, "436f756e742d32", "4e0bc5018beba4bf004cca5b",
                "895cabfac50ce6c6eb02ffe6c048bf53b7f7be9a91fc559402cbc5b8dcaeb52b2ccc93e466c28fb55fed7a7fec"),
            new(4, BeautyIsTruth, "436f756e742d34", "4e0bc5018beba4bf004cca5d",
                "8787491ee8df99bc99a246c4b3216d3d57ab5076e18fa27133f520703bc70ec999dd36ce042e44f0c3169a6a8f"),
            new(255, BeautyIsTruth, "436f756e742d323535", "4e0bc5018beba4bf004ccaa6",
                "2ad71c85bf3f45c6eca301426289854b31448bcf8a8ccb1deef3ebd87f60848aa53c538c30a4dac71d619ee2cd"),
            new(256, BeautyIsTruth, "436f756e742d323536", "4e0bc5018beba4bf004ccb59",
                "10f179686aa2caec1758c8e554513f16472bd0a11e2a907dde0b212cbe87d74f367f8ffe5e41cd3e9962a6afb2"),
        ],
        Exports:
        [
            new("", 32, "5e9bc3d236e1911d95e65b576a8a86d478fb827e8bdfe77b741b289890490d4d"),
            new("00", 32, "6cff87658931bda83dc857e6353efe4987a201b849658d9b047aab4cf216e796"),
            new("54657374436f6e74657874", 32, "d8f1ea7942adbba7412c6d431c62d01371ea476b823eb697e1f6e6cae1dab85a"),
        ]);

    // RFC 9180 App. A.3.3: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, mode_auth (every printed value).
    internal static readonly HpkeTestVector A33Auth = new(
        Name: "DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, mode 2 (auth)",
        Mode: HpkeMode.Auth,
        Aead: HpkeAead.Aes128Gcm,
        Info: "4f6465206f6e2061204772656369616e2055726e",
        IkmR: "7bc93bde8890d1fb55220e7f3b0c107ae7e6eda35ca4040bb6651284bf0747ee",
        IkmS: "874baa0dcf93595a24a45a7f042e0d22d368747daaa7e19f80a802af19204ba8",
        IkmE: "798d82a8d9ea19dbc7f2c6dfa54e8a6706f7cdc119db0813dacf8440ab37c857",
        SkRm: "d929ab4be2e59f6954d6bedd93e638f02d4046cef21115b00cdda2acb2a4440e",
        SkSm: "1120ac99fb1fccc1e8230502d245719d1b217fe20505c7648795139d177f0de9",
        SkEm: "6b8de0873aed0c1b2d09b8c7ed54cbf24fdf1dfc7a47fa501f918810642d7b91",
        PkRm: "04423e363e1cd54ce7b7573110ac121399acbc9ed815fae03b72ffbd4c18b01836835c5a09513f28fc971b7266cfde2e"
            + "96afe84bb0f266920e82c4f53b36e1a78d",
        PkSm: "04a817a0902bf28e036d66add5d544cc3a0457eab150f104285df1e293b5c10eef8651213e43d9cd9086c80b309df22c"
            + "f37609f58c1127f7607e85f210b2804f73",
        PkEm: "042224f3ea800f7ec55c03f29fc9865f6ee27004f818fcbdc6dc68932c1e52e15b79e264a98f2c535ef06745f3d30862"
            + "4414153b22c7332bc1e691cb4af4d53454",
        Enc: "042224f3ea800f7ec55c03f29fc9865f6ee27004f818fcbdc6dc68932c1e52e15b79e264a98f2c535ef06745f3d30862"
            + "4414153b22c7332bc1e691cb4af4d53454",
        SharedSecret: "d4aea336439aadf68f9348880aa358086f1480e7c167b6ef15453ba69b94b44f",
        KeyScheduleContext: "02b88d4e6d91759e65e87c470e8b9141113e9ad5f0c8ceefc1e088c82e6980500798e486f9c9c09c9b5c753ac72d6005"
            + "de254c607d1b534ed11d493ae1c1d9ac85",
        Secret: "fd0a93c7c6f6b1b0dd6a822d7b16f6c61c83d98ad88426df4613c3581a2319f1",
        Key: "19aa8472b3fdc530392b0e54ca17c0f5",
        BaseNonce: "b390052d26b67a5b8a8fcaa4",
        ExporterSecret: "f152759972660eb0e1db880835abd5de1c39c8e9cd269f6f082ed80e28acb164",
        Encryptions:
        [
            new(0, BeautyIsTruth, "436f756e742d30", "b390052d26b67a5b8a8fcaa4",
                "82ffc8c44760db691a07c5627e5fc2c08e7a86979ee79b494a17cc3405446ac2bdb8f265db4a099ed3289ffe19"),
            new(1, BeautyIsTruth, "436f756e742d31", "b390052d26b67a5b8a8fcaa5",
                "b0a705a54532c7b4f5907de51c13dffe1e08d55ee9ba59686114b05945494d96725b239468f1229e3966aa1250"),
            new(2, BeautyIsTruth, "436f756e742d32", "b390052d26b67a5b8a8fcaa6",
                "8dc805680e3271a801790833ed74473710157645584f06d1b53ad439078d880b23e25256663178271c80ee8b7c"),
            new(4, BeautyIsTruth, "436f756e742d34", "b390052d26b67a5b8a8fcaa0",
                "04c8f7aae1584b61aa5816382cb0b834a5d744f420e6dffb5ddcec633a21b8b3472820930c1ea9258b035937a2"),
            new(255, BeautyIsTruth, "436f756e742d323535", "b390052d26b67a5b8a8fca5b",
                "4a319462eaedee37248b4d985f64f4f863d31913fe9e30b6e13136053b69fe5d70853c84c60a84bb5495d5a678"),
            new(256, BeautyIsTruth, "436f756e742d323536", "b390052d26b67a5b8a8fcba4",
                "28e874512f8940fafc7d06135e7589f6b4198bc0f3a1c64702e72c9e6abaf9f05cb0d2f11b03a517898815c934"),
        ],
        Exports:
        [
            new("", 32, "837e49c3ff629250c8d80d3c3fb957725ed481e59e2feb57afd9fe9a8c7c4497"),
            new("00", 32, "594213f9018d614b82007a7021c3135bda7b380da4acd9ab27165c508640dbda"),
            new("54657374436f6e74657874", 32, "14fe634f95ca0d86e15247cca7de7ba9b73c9b9deb6437e1c832daf7291b79d5"),
        ]);

    // RFC 9180 official test-vectors.json (not printed in the RFC text): "DHKEM(P-256, HKDF-SHA256), HKDF-SHA256,
    // AES-256-GCM, mode 2 (auth)", the suite of PROTOCOL.md 2.1; encryptions at the sequence numbers the RFC prints.
    internal static readonly HpkeTestVector Aes256GcmAuth = new(
        Name: "DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, mode 2 (auth)",
        Mode: HpkeMode.Auth,
        Aead: HpkeAead.Aes256Gcm,
        Info: "4f6465206f6e2061204772656369616e2055726e",
        IkmR: "3c56756948f1c27aed3eb27a923c891dc073eccf94bb6c1b64a8bfaa95f1f8f7",
        IkmS: "0f3def8cc45967f86c566f2c2a7decedff0d5f8b20a34ab65318144c80cb6b2b",
        IkmE: "d6c49e442aad90bcc1bc0d166e5c4d3df845c803ba08b8a4d891af2eeae4f97e",
        SkRm: "d9f10996a02cd6c9dbda1d1f225f18f781ea3c893b8c2a6cb2e266e59f3cd9a9",
        SkSm: "6e7b14befe49443dc501def1cc2f0f293d9c5cfa045a23e9a2e0e7703b42705d",
        SkEm: "7a6cb29fab4e249d1796f95645288a6504d2167c7ff463bc447ab6022462af42",
        PkRm: "04cd38ef80923e26f157e06c9887f80177c97e1005a41104127271237f946df22eda13d40801bce6184f1a631c44b080"
            + "7a1a5e8d039975ed0f6079fcbd2dfe6652",
        PkSm: "04ece9b48cc98ee03ba742fe1218a3fbec960cc34b6e1defdcd3285276f39028e95b90f9526607565888766a1101f429"
            + "dc3ec87364b5c8c613f0a081881950427f",
        PkEm: "04a7aeac79fda402674ef247c12d6f5fdfd21498d896b67ff04ec181382d4516b7662be32b4a2ae817c2d57104ecb6fc"
            + "aa527438939810612d1b3d0af36ffc66ce",
        Enc: "04a7aeac79fda402674ef247c12d6f5fdfd21498d896b67ff04ec181382d4516b7662be32b4a2ae817c2d57104ecb6fc"
            + "aa527438939810612d1b3d0af36ffc66ce",
        SharedSecret: "4b6e403bf494c60342caaa46b3738ee0423892720751607338034b0a067cc1db",
        KeyScheduleContext: "028fc3aeb832490a4b5ab3e42023287db29a1f4bc7c222c0df228727b70a4021127f1ff3fd1aa97af7e5d473e1cb01ba"
            + "74831133d9659b6c26b03a038a49a84074",
        Secret: "163d292303b7947b7b4178e7e5dd259e8ebad6644d6e0a3fb2f2b69fd26c1f16",
        Key: "640064834667025be3ce7abf1eb42ccc0dea2db9782b9823519f474e054524e7",
        BaseNonce: "29240057274f71e55bfcca28",
        ExporterSecret: "5b03fe338463543c9d4b195ef8f9c5a914a7503a2a490efc6b6a466f5f85f306",
        Encryptions:
        [
            new(0, BeautyIsTruth, "436f756e742d30", "29240057274f71e55bfcca28",
                "59b9890aabf94c1d502c39d8d356989ab0880ed43e984255db7b32a8d7b0ad5beba799a4ec326a0ddca3dd5e5d"),
            new(1, BeautyIsTruth, "436f756e742d31", "29240057274f71e55bfcca29",
                "0af0da6775648ef8311c9267819d46ac3b8453d1e2bd7332ed49257527c7f789009ea2d3e80d61218d40d06755"),
            new(2, BeautyIsTruth, "436f756e742d32", "29240057274f71e55bfcca2a",
                "8cd5bcf23b4f26a96f8faa323f336f5fd46837c15f405b47300a4de88a82d087bf3b7129ea9a53154586c960a2"),
            new(4, BeautyIsTruth, "436f756e742d34", "29240057274f71e55bfcca2c",
                "c475dd501f14a9834952e138d16be954b8f1104e0709213e55c2a02f201eba4ca3156b65401bf81d5a8e97461c"),
            new(255, BeautyIsTruth, "436f756e742d323535", "29240057274f71e55bfccad7",
                "1288e097b30e71ad5f6198f23ac3a2634c2fbd575fd302e5eca7968114990fc3aba085eefcbe803e4130c63ff6"),
            new(256, BeautyIsTruth, "436f756e742d323536", "29240057274f71e55bfccb28",
                "df400deaab08719cdc7b278b9d2daf898e6aec30e0b1746552d53a20397c519c409a8b73e5e6672985a09c0942"),
        ],
        Exports:
        [
            new("", 32, "6c0386ae15b1b834a5247ca5595b4e102347cbcdc65de64832f36008ce9c9483"),
            new("00", 32, "3507f1d3914e96bf72447b5c2d227af2932c7978172085cb826a5ef7f25f74a3"),
            new("54657374436f6e74657874", 32, "e04a3d5ec48b3729b57b61e02d66eb6f67f4bf013f2767ebd2281592ea3ccef8"),
        ]);

    // RFC 9180 official test-vectors.json: "DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, Export-only, mode 2 (auth)".
    internal static readonly HpkeTestVector ExportOnlyAuth = new(
        Name: "DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, Export-only, mode 2 (auth)",
        Mode: HpkeMode.Auth,
        Aead: HpkeAead.ExportOnly,
        Info: "4f6465206f6e2061204772656369616e2055726e",
        IkmR: "521087d8a3531509821cfa89075ce54174f7985f34f5925258d8214675fc7582",
        IkmS: "be70e75ab695dac0529105c881b432d66bfb394f808c7c72025095369b39ae99",
        IkmE: "62a90be4b3936c8b158e84c4fdaf5f0e2d15fa5c528fbf75cdad03d24dbb2d09",
        SkRm: "df694582fd039a35940e0a1b3e97f4a1faaacf55ba9d6d838bfbe71affb98d17",
        SkSm: "20208fa66d40cf87d737f292e0d11ca3b6c2314a704a313f652fa11f7ca53d2e",
        SkEm: "09228047560804d1c9c99341d7e0921645fb5be1783568ceac4cbebdce86e975",
        PkRm: "0473d6a15efe09154aa0a21ed9f34723c055a9307f652a9fa2f43d16a3f633843e9381f76dafacb383da8c3a8b93d65d"
            + "f9b050db7e3931cfa5085545b993e48164",
        PkSm: "04730929f48619ac8544cf08d5a7a41e5a8964eb2dfa9cf76e37d357aef84fc6cc3f78040e8ab87ca436c2497bc04200"
            + "8d5bbe08fdc8664c261d623660b3a8ca67",
        PkEm: "0418ea35546b901f2cd712396d05763e79276e7e7393aacd9d244f00f42e7e634aa866c2043c1ed2a60108151838fa33"
            + "7ada8bae2049d4ece5e7d63cfffcdd3bfe",
        Enc: "0418ea35546b901f2cd712396d05763e79276e7e7393aacd9d244f00f42e7e634aa866c2043c1ed2a60108151838fa33"
            + "7ada8bae2049d4ece5e7d63cfffcdd3bfe",
        SharedSecret: "c843773058feb53d705fef07e7afc4a0c1c958f6453f36f3f72a2708d3194be4",
        KeyScheduleContext: "02fbfdc9526168162fadfd17fe227356e9ffe3afbfc682ca8f7e2c2fa25fbc0879667157ef6a763236715d0cdfae0492"
            + "d26fb4f02e2c8397d5fc765a529a167374",
        Secret: "f2b6b563daa68ab616565c0ef8ab3e2f976223f23b914fbc3a1af5417163e83d",
        Key: "",
        BaseNonce: "",
        ExporterSecret: "c92e728e11b5ae7b9e9d4e6b44a461cd4226f7eef618aacf8c9b8755fe3e0bd6",
        Encryptions: [],
        Exports:
        [
            new("", 32, "0705caff521465ec01f7ca3e6e010d4598d90d9b523e6bd34a7fe73d73151a37"),
            new("00", 32, "d8ec855424e648177a882f90d2047b9111260cb94caf229adb31e34c0100b3ab"),
            new("54657374436f6e74657874", 32, "e495136695183e2d5476b3467fb7f8e3a67101722c5e19be8a4fd6c7088b7d5e"),
        ]);
}
