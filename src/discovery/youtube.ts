/** youtube: the videos of a channel or playlist, read from YouTube's Atom feed. */
import { z } from "zod";
import {
  BaseDiscovery,
  DiscoveryError,
  exactlyOne,
  httpOptions,
  itemOptions,
  NOT_MODIFIED,
  type RawItem,
} from "./base.ts";
import { compact, FEED_ACCEPT, parseFeedBody } from "./_feed_items.ts";
import { isHttpUrl } from "./_text.ts";

const youtubeId = z.string().regex(
  /^[\w-]+$/,
  'expected a YouTube id such as "UC_x5XG1OV2P6uZZ5FSM9Ttw"',
);

/** Options of the youtube strategy. */
export const schema = exactlyOne(
  z.strictObject({
    ...itemOptions,
    ...httpOptions,
    /** The channel whose uploads to read ("UC…"). */
    channel_id: youtubeId.optional(),
    /** The playlist to read ("PL…"). */
    playlist_id: youtubeId.optional(),
    /** Where the feeds are served; default "https://www.youtube.com". */
    base_url: z.string().regex(/^https?:\/\//i, "expected an http(s) URL").optional(),
  }),
  ["channel_id", "playlist_id"],
);

/** Parsed options of the youtube strategy. */
export type YoutubeOptions = z.infer<typeof schema>;

/** Emits the feed's videos (YouTube lists the latest 15), keyed by video id. */
export class YoutubeDiscovery extends BaseDiscovery<YoutubeOptions> {
  /** Videos of the channel or playlist feed, newest first as YouTube orders them. */
  async fetchItems(): Promise<RawItem[]> {
    const { channel_id, playlist_id, base_url } = this.options;
    const query = channel_id ? `channel_id=${channel_id}` : `playlist_id=${playlist_id}`;
    const url = `${
      (base_url ?? "https://www.youtube.com").replace(/\/+$/, "")
    }/feeds/videos.xml?${query}`;
    const body = await this.fetchBytes(url, {
      conditional: true,
      headers: { accept: FEED_ACCEPT },
    });
    if (body === NOT_MODIFIED) return [];
    const feed = parseFeedBody(body, (message) => this.warn(message));
    this.noteSchedule(url, feed.schedule);
    if (feed.format !== "atom") {
      throw new DiscoveryError(
        `Cannot read YouTube feed ${url}: expected Atom, got ${feed.version}`,
        { url },
      );
    }
    return feed.entries.map((entry) => {
      const videoId = entry.extra?.["yt:videoId"] ?? entry.id?.replace(/^yt:video:/, "");
      return {
        key: videoId,
        url: isHttpUrl(entry.link) ? entry.link : undefined,
        date: entry.published ?? entry.updated,
        data: compact({
          video_id: videoId,
          url: isHttpUrl(entry.link) ? entry.link : undefined,
          title: entry.title ?? entry.media?.title,
          published: entry.published,
          updated: entry.updated,
          channel_id: entry.extra?.["yt:channelId"],
          author: entry.authors[0],
          description: entry.media?.description,
          thumbnail: entry.media?.thumbnail,
          views: entry.media?.views,
        }),
      };
    });
  }
}
