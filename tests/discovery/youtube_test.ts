import assert from "node:assert/strict";
import { schema, YoutubeDiscovery } from "../../src/discovery/youtube.ts";
import { discoverAndRecord, readResult, reply, serveRoutes, testEnv } from "./_server.ts";

const FEED = `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/" xmlns="http://www.w3.org/2005/Atom">
 <link rel="self" href="http://www.youtube.com/feeds/videos.xml?channel_id=UCabc_DEF-123"/>
 <id>yt:channel:abc_DEF-123</id>
 <yt:channelId>abc_DEF-123</yt:channelId>
 <title>Channel &amp; Friends</title>
 <entry>
  <id>yt:video:dQw4w9WgXcQ</id>
  <yt:videoId>dQw4w9WgXcQ</yt:videoId>
  <yt:channelId>UCabc_DEF-123</yt:channelId>
  <title>Video &quot;one&quot;</title>
  <link rel="alternate" href="https://www.youtube.com/watch?v=dQw4w9WgXcQ"/>
  <author><name>Channel &amp; Friends</name><uri>https://www.youtube.com/channel/UCabc_DEF-123</uri></author>
  <published>2024-05-01T12:00:00+00:00</published>
  <updated>2024-05-02T08:30:00+00:00</updated>
  <media:group>
   <media:title>Video "one"</media:title>
   <media:content url="https://www.youtube.com/v/dQw4w9WgXcQ?version=3" type="application/x-shockwave-flash" width="640" height="390"/>
   <media:thumbnail url="https://i2.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg" width="480" height="360"/>
   <media:description>Line one
line two</media:description>
   <media:community>
    <media:starRating count="10" average="5.00" min="1" max="5"/>
    <media:statistics views="12345"/>
   </media:community>
  </media:group>
 </entry>
 <entry>
  <id>yt:video:second-id_2</id>
  <yt:videoId>second-id_2</yt:videoId>
  <title>Second</title>
  <link rel="alternate" href="https://www.youtube.com/watch?v=second-id_2"/>
  <published>2024-04-01T12:00:00+00:00</published>
 </entry>
</feed>`;

Deno.test("youtube builds the channel feed URL and keys videos by their id", async () => {
  await using t = await testEnv();
  await using server = serveRoutes({
    "/feeds/videos.xml": () => reply(FEED, { "content-type": "text/xml; charset=UTF-8" }),
  });
  const options = schema.parse({ channel_id: "UCabc_DEF-123", base_url: server.origin + "/" });
  const { items } = await new YoutubeDiscovery(options, t.env).discover();
  assert.deepEqual(server.hits.map((h) => h.path), ["/feeds/videos.xml?channel_id=UCabc_DEF-123"]);
  assert.deepEqual([...items], [
    {
      key: "dQw4w9WgXcQ",
      data: {
        video_id: "dQw4w9WgXcQ",
        url: "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        title: 'Video "one"',
        published: "2024-05-01T12:00:00.000Z",
        updated: "2024-05-02T08:30:00.000Z",
        channel_id: "UCabc_DEF-123",
        author: "Channel & Friends",
        description: "Line one\nline two",
        thumbnail: "https://i2.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg",
        views: 12345,
      },
    },
    {
      key: "second-id_2",
      data: {
        video_id: "second-id_2",
        url: "https://www.youtube.com/watch?v=second-id_2",
        title: "Second",
        published: "2024-04-01T12:00:00.000Z",
      },
    },
  ]);
});

Deno.test("youtube reads playlists and answers a 304 with no items", async () => {
  await using t = await testEnv();
  await using server = serveRoutes({
    "/feeds/videos.xml": (req) =>
      req.headers.get("if-modified-since")
        ? reply(null, {}, 304)
        : reply(FEED, { "last-modified": "Wed, 01 May 2024 12:00:00 GMT" }),
  });
  const options = schema.parse({ playlist_id: "PLxyz", base_url: server.origin });
  assert.equal(
    (await discoverAndRecord(new YoutubeDiscovery(options, t.env), t.db)).items.length,
    2,
  );
  const result = await new YoutubeDiscovery(options, t.env).discover();
  assert.deepEqual(readResult(result), {
    items: [],
    notModified: true,
    validators: [server.url("/feeds/videos.xml?playlist_id=PLxyz")],
    warnings: [],
    refetch: [],
    failed: [],
  });
  assert.deepEqual(server.hits.map((h) => h.path), [
    "/feeds/videos.xml?playlist_id=PLxyz",
    "/feeds/videos.xml?playlist_id=PLxyz",
  ]);
});

Deno.test("youtube's schema wants exactly one of channel_id and playlist_id", () => {
  const both = schema.safeParse({ channel_id: "UC1", playlist_id: "PL1" });
  assert.deepEqual(both.error?.issues.map((i) => i.message), [
    'expected exactly one of "channel_id" or "playlist_id"',
  ]);
  const bad = schema.safeParse({ channel_id: "UC 1" });
  assert.deepEqual(bad.error?.issues.map((i) => i.path.join(".")), ["channel_id"]);
  assert.equal(schema.safeParse({ url: "https://x/" }).success, false);
});
